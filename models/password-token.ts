import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** `set_password` links go out in welcome emails (link mode), and `reset_password` links in "forgot password" emails. */
export type PasswordTokenPurpose = 'set_password' | 'reset_password';

/** A one-time link that lets its holder choose a password. Only the token's SHA-256 is stored. */
export class PasswordToken extends Model<InferAttributes<PasswordToken>, InferCreationAttributes<PasswordToken>> {
  declare id: CreationOptional<string>;
  declare user_id: string;
  declare purpose: PasswordTokenPurpose;
  declare token_hash: string;
  declare created_at: CreationOptional<Date>;
  declare expires_at: Date;
  /** Set when the link was used to choose a password; a used link never works again. */
  declare used_at: Date | null;
  /** Set when a newer credential or a password change made the link void. */
  declare revoked_at: Date | null;

  static initialise(sequelize: Sequelize) {
    PasswordToken.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        user_id: { type: DataTypes.BIGINT, allowNull: false },
        purpose: { type: DataTypes.STRING(16), allowNull: false },
        token_hash: { type: DataTypes.CHAR(64), allowNull: false, unique: true },
        created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
        expires_at: { type: DataTypes.DATE, allowNull: false },
        used_at: { type: DataTypes.DATE, allowNull: true },
        revoked_at: { type: DataTypes.DATE, allowNull: true },
      },
      { sequelize, tableName: 'password_tokens', modelName: 'PasswordToken', timestamps: true, createdAt: 'created_at', updatedAt: false },
    );
  }
}
