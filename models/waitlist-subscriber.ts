import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import { SUBSCRIBER_SOURCES, type SubscriberSource } from '../src/sources.ts';
import { extractNameParts } from '../src/names.ts';

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

  static initialise(sequelize: Sequelize) {
    WaitlistSubscriber.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        email: {
          type: DataTypes.STRING(254),
          allowNull: false,
          set(value: string) {
            this.setDataValue('email', typeof value === 'string' ? value.trim() : value);
          },
          validate: { isEmail: { msg: 'Enter a valid email address, such as ada@example.com' } },
        },
        name: {
          type: DataTypes.STRING(255),
          allowNull: true,
          validate: { len: { args: [0, 255], msg: 'Name must be at most 255 characters' } },
        },
        first_name: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
        last_name: { type: DataTypes.STRING(150), allowNull: true },
        phone_number: {
          type: DataTypes.STRING(20),
          allowNull: true,
          validate: { len: { args: [0, 20], msg: 'Phone number must be at most 20 characters' } },
        },
        source: {
          type: DataTypes.STRING(32),
          allowNull: false,
          defaultValue: 'website',
          validate: { isIn: { args: [SUBSCRIBER_SOURCES], msg: `Source must be one of ${SUBSCRIBER_SOURCES.join(', ')}` } },
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
