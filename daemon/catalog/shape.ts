// A tiny shape language for JSON input: one declaration yields both the validator (errors that name the
// exact field) and the published JSON Schema, so the editor's squiggles and the daemon's refusals agree.

export type Shape =
  | { kind: 'number'; min?: number; exclusiveMin?: number; max?: number; integer?: boolean; description?: string }
  /** `patternMessage` completes "must ..." where the pattern alone would not say what is wrong. */
  | { kind: 'string'; enum?: readonly string[]; pattern?: string; patternMessage?: string; minLength?: number; description?: string }
  | { kind: 'boolean'; description?: string }
  | { kind: 'array'; items: Shape; minItems?: number; description?: string }
  /**
   * `required`: always; `create`: only where the value is new rather than an override of a known one (a
   * site, model, tier or simulation the catalog does not have yet), and in every object within it.
   */
  | { kind: 'object'; props: Record<string, Shape>; required?: readonly string[]; create?: readonly string[]; description?: string; open?: boolean }
  | { kind: 'record'; values: Shape; description?: string }
  | { kind: 'nullable'; inner: Shape };

export interface ShapeError {
  /** JSON path below the value validated, e.g. "models[0].price.inputPer1M". */
  path: string;
  message: string;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function describeNumber(s: Extract<Shape, { kind: 'number' }>): string {
  const bound = s.exclusiveMin !== undefined ? ` > ${s.exclusiveMin}` : s.min !== undefined ? ` >= ${s.min}` : '';
  return `${s.integer ? 'an integer' : 'a number'}${bound}${s.max !== undefined ? `${bound ? ' and' : ''} <= ${s.max}` : ''}`;
}

/** A value as the message quotes it: JSON's 1e400 is Infinity, which JSON.stringify would write as null. */
function quote(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

export function validateShape(value: unknown, shape: Shape, path = '', errors: ShapeError[] = []): ShapeError[] {
  const fail = (message: string) => errors.push({ path: path || '(root)', message });
  switch (shape.kind) {
    case 'nullable':
      if (value !== null) validateShape(value, shape.inner, path, errors);
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || (shape.integer && !Number.isInteger(value))
        || (shape.min !== undefined && value < shape.min) || (shape.exclusiveMin !== undefined && value <= shape.exclusiveMin)
        || (shape.max !== undefined && value > shape.max)) {
        fail(`must be ${describeNumber(shape)}, got ${quote(value)}`);
      }
      break;
    case 'string':
      if (typeof value !== 'string') fail(`must be a string, got ${quote(value)}`);
      else if (shape.enum && !shape.enum.includes(value)) fail(`must be one of ${shape.enum.join(', ')}, got "${value}"`);
      else if (shape.minLength !== undefined && value.length < shape.minLength) fail('must not be empty');
      else if (shape.pattern && !new RegExp(shape.pattern, 'u').test(value)) fail(`must ${shape.patternMessage ?? `match ${shape.pattern}`}, got "${value}"`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`must be true or false, got ${quote(value)}`);
      break;
    case 'array':
      if (!Array.isArray(value)) fail('must be an array');
      else if (shape.minItems !== undefined && value.length < shape.minItems) fail(`must have at least ${shape.minItems} item(s)`);
      else value.forEach((v, i) => validateShape(v, shape.items, join(path, i), errors));
      break;
    case 'record':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('must be an object');
      else for (const [k, v] of Object.entries(value)) validateShape(v, shape.values, join(path, k), errors);
      break;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        fail('must be an object');
        break;
      }
      const obj = value as Record<string, unknown>;
      for (const key of shape.required ?? []) {
        if (obj[key] === undefined) errors.push({ path: join(path, key), message: 'is required' });
      }
      for (const [key, v] of Object.entries(obj)) {
        // Own keys only: "__proto__" or "constructor" must not find Object.prototype's members and pass unchecked.
        const prop = Object.hasOwn(shape.props, key) ? shape.props[key] : undefined;
        if (prop) validateShape(v, prop, join(path, key), errors);
        else if (!shape.open) errors.push({ path: join(path, key), message: 'is not a known field' });
      }
      break;
    }
  }
  return errors;
}

/**
 * What a value made new lacks: the `create` fields of each object in it, the value itself included (a
 * valid shape is assumed). `what` names the new thing in the message: "is required for a new site".
 */
export function missingOnCreate(value: unknown, shape: Shape, path: string, what: string, errors: ShapeError[] = []): ShapeError[] {
  if (value === null || value === undefined) return errors;
  switch (shape.kind) {
    case 'nullable':
      return missingOnCreate(value, shape.inner, path, what, errors);
    case 'array':
      if (Array.isArray(value)) value.forEach((v, i) => missingOnCreate(v, shape.items, join(path, i), what, errors));
      return errors;
    case 'record':
      for (const [k, v] of Object.entries(value as object)) missingOnCreate(v, shape.values, join(path, k), what, errors);
      return errors;
    case 'object': {
      const obj = value as Record<string, unknown>;
      for (const key of shape.create ?? []) if (obj[key] === undefined) errors.push({ path: join(path, key), message: `is required for a new ${what}` });
      for (const [key, v] of Object.entries(obj)) if (Object.hasOwn(shape.props, key)) missingOnCreate(v, shape.props[key], join(path, key), what, errors);
      return errors;
    }
    default:
      return errors;
  }
}

/** JSON Schema for a value made new: what `missingOnCreate` asks of it, to combine with the shape's own schema. */
export function toCreateJsonSchema(shape: Shape): Record<string, unknown> {
  // Object keywords (required, properties) pass any value that is not an object, array keywords any value
  // that is not an array: a null or a number here is judged by the shape's own schema alone.
  switch (shape.kind) {
    case 'nullable':
      return toCreateJsonSchema(shape.inner);
    case 'array': {
      const items = toCreateJsonSchema(shape.items);
      return Object.keys(items).length ? { items } : {};
    }
    case 'record': {
      const values = toCreateJsonSchema(shape.values);
      return Object.keys(values).length ? { additionalProperties: values } : {};
    }
    case 'object': {
      const props = Object.entries(shape.props).map(([k, v]) => [k, toCreateJsonSchema(v)] as const).filter(([, v]) => Object.keys(v).length);
      return {
        ...(shape.create?.length ? { required: [...shape.create] } : {}),
        ...(props.length ? { properties: Object.fromEntries(props) } : {}),
      };
    }
    default:
      return {};
  }
}

/** JSON Schema (draft-07) for a shape. */
export function toJsonSchema(shape: Shape): Record<string, unknown> {
  const withDescription = (s: Record<string, unknown>, d?: string) => (d ? { description: d, ...s } : s);
  switch (shape.kind) {
    case 'nullable': {
      const inner = toJsonSchema(shape.inner);
      return { anyOf: [inner, { type: 'null' }] };
    }
    case 'number':
      return withDescription({
        type: shape.integer ? 'integer' : 'number',
        ...(shape.min !== undefined ? { minimum: shape.min } : {}),
        ...(shape.exclusiveMin !== undefined ? { exclusiveMinimum: shape.exclusiveMin } : {}),
        // Finite, as the validator wants: JSON's 1e400 reads as Infinity, which a schema's "number" admits.
        maximum: shape.max ?? Number.MAX_VALUE,
      }, shape.description);
    case 'string':
      return withDescription({
        type: 'string',
        ...(shape.enum ? { enum: [...shape.enum] } : {}),
        ...(shape.pattern ? { pattern: shape.pattern } : {}),
        // VS Code's own keyword: the editor says this instead of quoting the pattern.
        ...(shape.patternMessage ? { patternErrorMessage: `Must ${shape.patternMessage}.` } : {}),
        ...(shape.minLength !== undefined ? { minLength: shape.minLength } : {}),
      }, shape.description);
    case 'boolean':
      return withDescription({ type: 'boolean' }, shape.description);
    case 'array':
      return withDescription({ type: 'array', items: toJsonSchema(shape.items), ...(shape.minItems !== undefined ? { minItems: shape.minItems } : {}) }, shape.description);
    case 'record':
      return withDescription({ type: 'object', additionalProperties: toJsonSchema(shape.values) }, shape.description);
    case 'object':
      return withDescription({
        type: 'object',
        properties: Object.fromEntries(Object.entries(shape.props).map(([k, v]) => [k, toJsonSchema(v)])),
        ...(shape.required?.length ? { required: [...shape.required] } : {}),
        additionalProperties: shape.open ?? false,
      }, shape.description);
  }
}
