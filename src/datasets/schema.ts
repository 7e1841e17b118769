import { Type, type Static } from '@sinclair/typebox';
import { columnTypes, formats } from './infer.js';
import { NAME_RULE, REFRESH_RULE } from './names.js';

const Format = Type.Union(formats.map((f) => Type.Literal(f)));

export const ColumnOut = Type.Object({
  name: Type.String(),
  type: Type.Union(columnTypes.map((t) => Type.Literal(t))),
  nullable: Type.Boolean({ description: 'some row has no value here' }),
});

export const VersionOut = Type.Object({
  dataset: Type.String(),
  workspace: Type.String(),
  version: Type.Integer(),
  uri: Type.String({ description: "'datasets:/name/version', for monitors, jobs and run inputs" }),
  format: Format,
  filename: Type.String(),
  sha256: Type.String({ description: 'hex sha256 of the stored bytes' }),
  size: Type.Integer({ description: 'bytes' }),
  rowCount: Type.Integer(),
  schema: Type.Object({ columns: Type.Array(ColumnOut) }),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type VersionOut = Static<typeof VersionOut>;

export const DatasetOut = Type.Object({
  name: Type.String(),
  workspace: Type.String(),
  owner: Type.Union([Type.String(), Type.Null()], { description: 'principal that owns it (may delete it); null if that principal was deleted' }),
  source: Type.String(),
  refreshFrequency: Type.Union([Type.String(), Type.Null()]),
  description: Type.String(),
  latestVersion: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type DatasetOut = Static<typeof DatasetOut>;

export const DatasetWithVersions = Type.Intersect([DatasetOut, Type.Object({ versions: Type.Array(VersionOut) })]);
export type DatasetWithVersions = Static<typeof DatasetWithVersions>;

export const DatasetList = Type.Object({ datasets: Type.Array(DatasetOut) });

export const WorkspaceParam = Type.Object({ ws: Type.String() });
export const DatasetParams = Type.Object({ ws: Type.String(), name: Type.String({ description: NAME_RULE }) });
export const VersionParams = Type.Object({
  ws: Type.String(),
  name: Type.String(),
  version: Type.String({ description: "a version number, or 'latest'" }),
});

const Source = Type.String({ maxLength: 2000, description: 'where the data comes from: free text or a URI' });
const Description = Type.String({ maxLength: 10000 });
const Refresh = Type.String({ maxLength: 100, description: REFRESH_RULE });

export const UploadQuery = Type.Object(
  {
    format: Type.Optional(Format),
    filename: Type.Optional(Type.String({ maxLength: 255, description: "stored file name; its extension gives the format when 'format' is absent" })),
    source: Type.Optional(Source),
    description: Type.Optional(Description),
    refreshFrequency: Type.Optional(Refresh),
  },
  { additionalProperties: false },
);
export type UploadQuery = Static<typeof UploadQuery>;

export const DatasetPatch = Type.Object(
  {
    owner: Type.Optional(Type.String({ minLength: 1, description: 'a user, service principal or group; changing it needs the current owner or access.manage' })),
    source: Type.Optional(Source),
    refreshFrequency: Type.Optional(Type.Union([Refresh, Type.Null()], { description: 'null clears it' })),
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
export type DatasetPatch = Static<typeof DatasetPatch>;

/** The media types an upload may be sent as; all are passed through as a stream. */
export const UPLOAD_MEDIA_TYPES = ['application/octet-stream', 'text/csv', 'application/x-ndjson', 'application/vnd.apache.parquet'];

/**
 * The upload body for OpenAPI: one entry per media type, with a schema that
 * constrains nothing, since the validator sees the unread stream, not bytes.
 */
export const UploadBody = {
  content: Object.fromEntries(UPLOAD_MEDIA_TYPES.map((t) => [t, { schema: { format: 'binary', description: "the file's bytes (CSV, JSON Lines or Parquet)" } }])),
};
