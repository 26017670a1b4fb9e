import { runService } from '@dream/common';
import { loadMediaConfig } from './config';
import { startMediaSubgraph } from './service';

/**
 * `npm start -w subgraphs/media`: one media API replica configured from the environment. MEDIA_ROLE=worker
 * runs the transcoding worker instead (its own process, scaled on its own).
 */
if (require.main === module) {
  const config = loadMediaConfig();
  if (config.MEDIA_ROLE === 'worker') {
    console.error('media: MEDIA_ROLE=worker needs the transcoding module, which this build does not include yet.');
    process.exit(1);
  }
  runService(() => startMediaSubgraph(config));
}
