import { Resource as SequelizeResource } from '@adminjs/sequelize';
import { BaseRecord, ValidationError, type Filter, type ParamsType } from 'adminjs';
import { Op, UniqueConstraintError, ValidationError as SequelizeValidationError, type ModelStatic, type Model, type WhereOptions } from 'sequelize';

/** Rules for how one resource filters, sorts and saves, beyond what the AdminJS adapter does on its own. */
export interface ResourceRules {
  /** Columns a filter may name; any other filter is ignored, so no filter can probe a column such as a password hash. */
  filterable: string[];
  /** Columns the list may sort by; other sort requests fall back to `defaultSort`, newest or highest first. */
  sortable: string[];
  defaultSort: string;
  /** Text columns matched in full (enumerations such as `source`); other text columns match a part, ignoring case. */
  exactText?: string[];
  /** Filters on virtual properties, such as `search` or `needs_attention`, as a Sequelize condition. */
  virtualFilters?: Record<string, (value: string) => WhereOptions | undefined>;
  /** Columns that create and edit may set; AdminJS sends every param of the form, and the rest are ignored. */
  editable: string[];
  /** Columns AdminJS never learns of, so no page, filter or sort can reach them (a password hash). */
  hidden?: string[];
  /** Message for a unique index violation, keyed by the field to show it on. */
  duplicateMessage?: { field: string; message: string };
}

/**
 * The AdminJS Sequelize resource with our filter rules. Text filters ignore case and take `%` and `_` literally,
 * and date ranges include the whole last day. Saving goes through the model, so its validation and hooks run,
 * and Sequelize's validation messages are shown on the fields.
 */
export class FilteredResource extends SequelizeResource {
  constructor(
    private readonly model: ModelStatic<Model>,
    private readonly rules: ResourceRules,
  ) {
    super(model);
  }

  override properties() {
    const hidden = this.rules.hidden ?? [];
    return super.properties().filter((property) => !hidden.includes(property.name()));
  }

  override property(path: string) {
    return this.rules.hidden?.includes(path.split('.')[0]) ? null : super.property(path);
  }

  override async count(filter: Filter): Promise<number> {
    return this.model.count({ where: this.whereOf(filter) });
  }

  override async find(filter: Filter, options: { limit?: number; offset?: number; sort?: { sortBy?: string; direction?: 'asc' | 'desc' } } = {}): Promise<BaseRecord[]> {
    const known = Boolean(options.sort?.sortBy && this.rules.sortable.includes(options.sort.sortBy));
    const sortBy = known ? options.sort!.sortBy! : this.rules.defaultSort;
    const direction = known && options.sort?.direction === 'asc' ? 'ASC' : 'DESC';

    const rows = await this.model.findAll({
      where: this.whereOf(filter),
      limit: options.limit ?? 20,
      offset: options.offset ?? 0,
      // The id breaks ties, so that pages neither repeat nor skip rows with equal sort values.
      order: [
        [sortBy, `${direction} NULLS LAST`],
        ['id', direction],
      ],
    });
    return rows.map((row) => new BaseRecord(row.toJSON(), this));
  }

  override async create(params: Record<string, unknown>): Promise<ParamsType> {
    return this.saving(async () => {
      const row = await this.model.create(this.editableValues(params));
      return this.model.findByPk(row.get('id') as string);
    });
  }

  override async update(id: string, params: Record<string, unknown>): Promise<ParamsType> {
    return this.saving(async () => {
      const row = await this.model.findByPk(id);
      if (!row) throw new ValidationError({}, { message: `Record ${id} was not found: it may have been deleted.`, type: 'error' });

      // Saving the instance (not a bulk update) runs the model's validation and its beforeSave hooks.
      row.set(this.editableValues(params));
      await row.save();
      return this.model.findByPk(id);
    });
  }

  private editableValues(params: Record<string, unknown>): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const field of this.rules.editable) {
      if (!(field in params)) continue;
      const value = params[field];
      const attribute = this.model.getAttributes()[field];
      values[field] = value === '' && attribute?.allowNull ? null : value;
    }
    return values;
  }

  private async saving(work: () => Promise<Model | null>): Promise<ParamsType> {
    try {
      const row = await work();
      return (row?.toJSON() ?? {}) as ParamsType;
    } catch (error) {
      if (error instanceof UniqueConstraintError && this.rules.duplicateMessage) {
        const { field, message } = this.rules.duplicateMessage;
        throw new ValidationError({ [field]: { message, type: 'unique' } });
      }
      if (error instanceof SequelizeValidationError) {
        const fields = Object.fromEntries(error.errors.map((item) => [item.path ?? 'base', { message: item.message, type: item.validatorKey ?? 'invalid' }]));
        throw new ValidationError(fields);
      }
      throw error;
    }
  }

  private whereOf(filter: Filter | undefined): WhereOptions {
    const conditions: WhereOptions[] = [];
    for (const item of Object.values(filter?.filters ?? {})) {
      const condition = this.conditionOf(item.path, item.value);
      if (condition) conditions.push(condition);
    }
    return conditions.length > 0 ? { [Op.and]: conditions } : {};
  }

  private conditionOf(path: string, value: unknown): WhereOptions | undefined {
    const virtual = this.rules.virtualFilters?.[path];
    if (virtual) return typeof value === 'string' && value !== '' ? virtual(value) : undefined;
    if (!this.rules.filterable.includes(path)) return undefined;

    const attribute = this.model.getAttributes()[path];
    const type = attribute?.type?.constructor?.name ?? '';

    if (type === 'BOOLEAN') return booleanCondition(path, value);
    if (type === 'DATE' || type === 'DATEONLY') return dateRangeCondition(path, value);
    if (type === 'BIGINT' || type === 'INTEGER' || type === 'SMALLINT') return /^\d+$/.test(String(value)) ? { [path]: String(value) } : { [path]: null, id: null };
    if (typeof value !== 'string' || value === '') return undefined;
    if (this.rules.exactText?.includes(path)) return { [path]: value };
    return containsText(path, value);
  }
}

/** Builds a case-insensitive "contains" match on one column, with `%`, `_` and `\` in `text` taken literally. */
export function containsText(column: string, text: string): WhereOptions {
  return { [column]: { [Op.iLike]: `%${escapeLike(text)}%` } };
}

/** Escapes LIKE's wildcards with PostgreSQL's default escape character, the backslash. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function booleanCondition(path: string, value: unknown): WhereOptions | undefined {
  if (value === 'true' || value === true) return { [path]: true };
  if (value === 'false' || value === false) return { [path]: false };
  return undefined;
}

/** Filters `from` (inclusive) to `to`; a bare date as `to` includes that whole day (UTC). */
function dateRangeCondition(path: string, value: unknown): WhereOptions | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { from, to } = value as { from?: string; to?: string };
  const range: Record<symbol, Date> = {};

  const start = parseDate(from);
  if (start) range[Op.gte] = start;

  const end = parseDate(to);
  if (end && /^\d{4}-\d{2}-\d{2}$/.test(to!)) range[Op.lt] = new Date(end.getTime() + 24 * 3600 * 1000);
  else if (end) range[Op.lte] = end;

  return Object.getOwnPropertySymbols(range).length > 0 ? { [path]: range } : undefined;
}

function parseDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
