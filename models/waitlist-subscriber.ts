import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { SubscriberSource } from '../src/sources.ts';
import { extractNameParts } from '../src/names.ts';
import { normaliseEmail, normaliseName, normalisePhone, normaliseSource, type FieldResult, type InputOptions } from '../src/subscriber-input.ts';

/** A person on the waitlist, with the state of turning them into a user account. */
export class WaitlistSubscriber extends Model<InferAttributes<WaitlistSubscriber>, InferCreationAttributes<WaitlistSubscriber>> {
  declare id: CreationOptional<string>;
  declare email: string;
  declare name: string | null;
  declare first_name: CreationOptional<string>;
  declare last_name: CreationOptional<string | null>;
  declare phone_number: string | null;
  declare source: CreationOptional<SubscriberSource>;
  declare is_processed: CreationOptional<boolean>;
  declare created_at: CreationOptional<Date>;
  declare updated_at: CreationOptional<Date>;
  declare processed_at: Date | null;
  declare user_id: string | null;
  /** Failed processing attempts since the last success or retry. */
  declare attempts: CreationOptional<number>;
  declare last_error_code: string | null;
  declare last_error_message: string | null;
  /** Earliest time the processor takes this subscriber again after a temporary failure. */
  declare next_attempt_at: Date | null;
  /** When processing stopped retrying; such subscribers need an operator. */
  declare gave_up_at: Date | null;

  /** Options for the input rules, such as the country for phone numbers written without a country code. */
  static inputOptions: InputOptions = {};

  static initialise(sequelize: Sequelize, inputOptions: InputOptions = {}) {
    WaitlistSubscriber.inputOptions = inputOptions;
    WaitlistSubscriber.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        email: {
          type: DataTypes.STRING(254),
          allowNull: false,
          set(value: unknown) {
            this.setDataValue('email', normalisedOrRaw(normaliseEmail(value), value) as string);
          },
          validate: {
            notNull: { msg: 'Enter an email address, such as ada@example.com.' },
            followsEmailRules: (value: unknown) => assertValid(normaliseEmail(value)),
          },
        },
        name: {
          type: DataTypes.STRING(255),
          allowNull: true,
          set(value: unknown) {
            this.setDataValue('name', normalisedOrRaw(normaliseName(value), value) as string | null);
          },
          validate: { followsNameRules: (value: unknown) => assertValid(normaliseName(value)) },
        },
        first_name: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
        last_name: { type: DataTypes.STRING(150), allowNull: true },
        phone_number: {
          type: DataTypes.STRING(20),
          allowNull: true,
          set(value: unknown) {
            this.setDataValue('phone_number', normalisedOrRaw(normalisePhone(value, WaitlistSubscriber.inputOptions), value) as string | null);
          },
          validate: { followsPhoneRules: (value: unknown) => assertValid(normalisePhone(value, WaitlistSubscriber.inputOptions)) },
        },
        source: {
          type: DataTypes.STRING(32),
          allowNull: false,
          defaultValue: 'website',
          set(value: unknown) {
            this.setDataValue('source', normalisedOrRaw(normaliseSource(value), value) as SubscriberSource);
          },
          validate: { followsSourceRules: (value: unknown) => assertValid(normaliseSource(value)) },
        },
        is_processed: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
        updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
        processed_at: { type: DataTypes.DATE, allowNull: true },
        user_id: { type: DataTypes.BIGINT, allowNull: true },
        attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        last_error_code: { type: DataTypes.STRING(64), allowNull: true },
        last_error_message: { type: DataTypes.TEXT, allowNull: true },
        next_attempt_at: { type: DataTypes.DATE, allowNull: true },
        gave_up_at: { type: DataTypes.DATE, allowNull: true },
      },
      {
        sequelize,
        tableName: 'waitlist_subscribers',
        modelName: 'WaitlistSubscriber',
        timestamps: true,
        createdAt: 'created_at',
        updatedAt: 'updated_at',
        hooks: {
          beforeSave: (subscriber) => {
            if (subscriber.isNewRecord || subscriber.changed('name')) {
              const parts = extractNameParts(subscriber.name);
              subscriber.first_name = parts.firstName;
              subscriber.last_name = parts.lastName;
            }
          },
        },
      },
    );
  }
}

// Setters store the normalised value when the input follows the rules, and the input unchanged otherwise,
// so that validation (which runs on save) reports the reason on the field instead of the setter throwing.
function normalisedOrRaw<T>(result: FieldResult<T>, raw: unknown): unknown {
  return result.ok ? result.value : raw;
}

function assertValid<T>(result: FieldResult<T>): void {
  if (!result.ok) throw new Error(result.reason);
}
