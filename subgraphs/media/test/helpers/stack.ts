import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Stack } from '@dream/testenv';
import { loadMediaConfig, type MediaConfig } from '../../src/config';
import { startMediaSubgraph, type MediaSubgraph } from '../../src/service';

/** A media replica in a testenv Stack: it announces itself (SDL, /media/ routes) to the stack's discovery. */
export async function startStackMedia(stack: Stack): Promise<{ config: MediaConfig; media: MediaSubgraph }> {
  const config = loadMediaConfig({
    ...stack.subgraphEnv('media'),
    DISCOVERY_URL: stack.discoveryUrl,
    ADVERTISE_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    MEDIA_DIR: join(stack.dir, 'media'),
    MEDIA_UPLOAD_DIR: join(stack.dir, 'uploads'),
    MEDIA_SIGNING_SECRET: randomBytes(32).toString('base64url'),
  });
  const media = await startMediaSubgraph(config);
  stack.d.defer(() => media.stop());
  return { config, media };
}
