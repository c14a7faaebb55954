import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export type DeliveryKind = 'welcome' | 'resend' | 'password_reset';
export type DeliveryStatus = 'accepted' | 'failed';

/** One attempt to send an email. Holds no password and no rendered body. */
export class EmailDelivery extends Model<InferAttributes<EmailDelivery>, InferCreationAttributes<EmailDelivery>> {
  declare id: CreationOptional<string>;
  declare recipient: string;
  declare kind: DeliveryKind;
  declare subscriber_id: string | null;
  declare user_id: string | null;
  /** `accepted` means the SMTP server (or the outbox) took the message, not that it reached the mailbox. */
  declare status: DeliveryStatus;
  declare message_id: string | null;
  declare smtp_response: string | null;
  declare error_code: string | null;
  declare error_message: string | null;
  declare created_at: CreationOptional<Date>;

  static initialise(sequelize: Sequelize) {
    EmailDelivery.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        recipient: { type: DataTypes.STRING(254), allowNull: false },
        kind: { type: DataTypes.STRING(32), allowNull: false },
        subscriber_id: { type: DataTypes.BIGINT, allowNull: true },
        user_id: { type: DataTypes.BIGINT, allowNull: true },
        status: { type: DataTypes.STRING(16), allowNull: false },
        message_id: { type: DataTypes.STRING(998), allowNull: true },
        smtp_response: { type: DataTypes.TEXT, allowNull: true },
        error_code: { type: DataTypes.STRING(64), allowNull: true },
        error_message: { type: DataTypes.TEXT, allowNull: true },
        created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      },
      { sequelize, tableName: 'email_deliveries', modelName: 'EmailDelivery', timestamps: true, createdAt: 'created_at', updatedAt: false },
    );
  }
}
