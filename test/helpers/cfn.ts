/**
 * Reading a synthesized CloudFormation template in the CDK tests: the shapes the tests look at, and references
 * (`Ref`, `Fn::GetAtt`, `Fn::Join`) written as readable strings.
 */

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** IAM and CloudFormation write one item or a list; the tests read a list either way. */
export const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The logical id behind `{ Ref: id }` or `{ Fn::GetAtt: [id, …] }`. */
export function idOf(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = v.Ref ?? v['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a reference: ${JSON.stringify(value)}`);
  return id;
}

/** A string as CloudFormation would build it: a literal, a `Fn::Join`, each reference written `<logical id>`. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(text).join(join[0]);
  return `<${idOf(value)}>`;
}
