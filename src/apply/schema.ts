import { Type, type Static } from '@sinclair/typebox';

/** TypeBox schemas of declarative apply and export (/api/v1/apply, /api/v1/export). */
export const ApplyBody = Type.Object(
  {
    documents: Type.Array(Type.Object({ kind: Type.String() }, { additionalProperties: true }), { maxItems: 1000, description: 'the parsed YAML documents, in file order' }),
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'plan only: change nothing' })),
    prune: Type.Optional(Type.Boolean({ default: false, description: "also delete the resources of the documents' kinds, in the workspaces they name, that no document describes (Rollouts are never pruned)" })),
  },
  { additionalProperties: false },
);
export type ApplyBody = Static<typeof ApplyBody>;

const PlanRow = Type.Object({
  kind: Type.String(),
  workspace: Type.String(),
  name: Type.String(),
  action: Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('unchanged'), Type.Literal('delete')]),
  changes: Type.Array(Type.String()),
});
export const ApplyResult = Type.Object({ dryRun: Type.Boolean(), plan: Type.Array(PlanRow) });

export const ExportQuery = Type.Object({ workspace: Type.Optional(Type.String({ default: 'default' })) }, { additionalProperties: false });
export type ExportQuery = Static<typeof ExportQuery>;
