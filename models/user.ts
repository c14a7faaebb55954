import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** An account that can sign in: created by the processor for a subscriber, or a staff account for the admin panel. */
export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<string>;
  declare username: string;
  declare email: string;
  /** Argon2id hash. Left out of every query unless the `withPassword` scope requests it. */
  declare password_hash: string | null;
  declare first_name: CreationOptional<string>;
  declare last_name: string | null;
  declare phone_number: string | null;
  declare is_active: CreationOptional<boolean>;
  declare is_verified: CreationOptional<boolean>;
  declare is_staff: CreationOptional<boolean>;
  declare is_superuser: CreationOptional<boolean>;
  declare must_change_password: CreationOptional<boolean>;
  declare password_expires_at: Date | null;
  declare last_login: Date | null;
  declare date_joined: CreationOptional<Date>;
  declare updated_at: CreationOptional<Date>;

  static initialise(sequelize: Sequelize) {
    User.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        username: { type: DataTypes.STRING(150), allowNull: false, unique: true },
        email: { type: DataTypes.STRING(254), allowNull: false, validate: { isEmail: true } },
        password_hash: { type: DataTypes.STRING(255), allowNull: true },
        first_name: { type: DataTypes.STRING(150), allowNull: false, defaultValue: '' },
        last_name: { type: DataTypes.STRING(150), allowNull: true },
        phone_number: { type: DataTypes.STRING(20), allowNull: true },
        is_active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
        is_verified: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        is_staff: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        is_superuser: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        must_change_password: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        password_expires_at: { type: DataTypes.DATE, allowNull: true },
        last_login: { type: DataTypes.DATE, allowNull: true },
        date_joined: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
        updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      },
      {
        sequelize,
        tableName: 'users',
        modelName: 'User',
        timestamps: true,
        createdAt: 'date_joined',
        updatedAt: 'updated_at',
        // The admin panel sends every selected column to the browser, so the hash is never selected by default.
        defaultScope: { attributes: { exclude: ['password_hash'] } },
        scopes: { withPassword: { attributes: { include: ['password_hash'] } } },
      },
    );
  }
}
