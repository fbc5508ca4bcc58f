/**
 * The RFC 9457 problem document every error answer is: its schema, for the OpenAPI document and
 * for answers that embed one (a failed operation's `problem`).
 */
import { z } from "zod";

export const ProblemSchema = z
  .looseObject({
    type: z.string().describe("Stable problem type: /problems/<slug>; ledger rules are /problems/ledger/<rule>"),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().optional(),
    field: z.string().optional().describe("The offending input: a dotted body path or a header name"),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    rule: z.string().optional().describe("The ledger's custom error, for ledger rules"),
    values: z.record(z.string(), z.unknown()).optional().describe("The custom error's values (amounts as decimal strings)"),
  })
  .meta({ id: "Problem" });

