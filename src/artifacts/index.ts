export type { ArtifactEntry, ArtifactStat, ArtifactStore, PutOptions, PutResult } from './store.js';
export { sha256Of } from './store.js';
export { MAX_KEY_BYTES, joinKey, validateKey, validatePrefix } from './keys.js';
export { FsArtifactStore } from './fs.js';
export { S3ArtifactStore, type S3StoreOptions } from './s3.js';
export { openArtifactStore, parseS3, type OpenArtifactStoreOptions } from './open.js';
