import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of the native registry API (/api/v1/workspaces/{ws}/models...). */
export const WsParams = Type.Object({ ws: Type.String() });
export const ModelParams = Type.Object({ ws: Type.String(), name: Type.String() });
export const VersionParams = Type.Object({ ws: Type.String(), name: Type.String(), version: Type.Integer({ minimum: 1, description: 'version number' }) });
export const FileParams = Type.Object({ ws: Type.String(), name: Type.String(), version: Type.Integer({ minimum: 1 }), '*': Type.String() });
export const AliasParams = Type.Object({ ws: Type.String(), name: Type.String(), alias: Type.String() });
export type ModelParams = Static<typeof ModelParams>;
export type VersionParams = Static<typeof VersionParams>;
export type AliasParams = Static<typeof AliasParams>;

export const ModelList = Type.Object(
  {
    filter: Type.Optional(Type.String({ description: "MLflow filter, such as name LIKE 'cancer%'" })),
    maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    pageToken: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ModelList = Static<typeof ModelList>;

export const RegisterQuery = Type.Object(
  {
    filename: Type.Optional(Type.String({ description: "the .onnx file's name when the body is one ONNX file (default model.onnx)" })),
    alias: Type.Optional(Type.String({ description: 'set this alias on the new version' })),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    runId: Type.Optional(Type.String({ description: 'the tracking run that produced the model (lineage)' })),
  },
  { additionalProperties: false },
);
export type RegisterQuery = Static<typeof RegisterQuery>;

export const AliasSet = Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
export type AliasSet = Static<typeof AliasSet>;

/** Upload bodies, for the OpenAPI document: the bytes themselves, never parsed. */
export const REGISTER_MEDIA_TYPES = ['application/octet-stream', 'application/x-tar'] as const;
export const RegisterBody = {
  content: {
    'application/octet-stream': { schema: { format: 'binary', description: 'one .onnx file (name it with ?filename=)' } },
    'application/x-tar': { schema: { format: 'binary', description: 'a tar of an MLflow model directory (MLmodel + model.onnx + anything else)' } },
  },
};
