import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AssetFiles } from './lessons/lifecycle';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * An asset's files on local disk: everything under `<dir>/assets/<assetId>/`. Asset ids are our own UUIDs;
 * anything else is refused so no id can name a path outside the media folder.
 */
export function localAssetFiles(dir: string): AssetFiles {
  const root = resolve(dir, 'assets');
  return {
    async removeAsset(assetId) {
      if (!UUID_RE.test(assetId)) throw new Error(`not an asset id: ${JSON.stringify(assetId)}`);
      await rm(join(root, assetId), { recursive: true, force: true });
    },
  };
}
