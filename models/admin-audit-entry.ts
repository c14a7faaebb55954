import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** One action a staff member ran in the admin panel: who, which action, on which records, when. */
export class AdminAuditEntry extends Model<InferAttributes<AdminAuditEntry>, InferCreationAttributes<AdminAuditEntry>> {
  declare id: CreationOptional<string>;
  declare staff_user_id: string | null;
  /** Kept beside the id, so the entry still names the person after their account is deleted. */
  declare staff_email: string;
  /** The AdminJS action name, such as `processNow` or `edit`. */
  declare action: string;
  /** The AdminJS resource id, which is the table name. */
  declare resource: string;
  /** Comma-separated ids of the records the action touched; empty for resource-wide actions. */
  declare record_ids: CreationOptional<string>;
  /** The notice the action returned, or a short description; never a password. */
  declare details: string | null;
  declare created_at: CreationOptional<Date>;

  static initialise(sequelize: Sequelize) {
    AdminAuditEntry.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        staff_user_id: { type: DataTypes.BIGINT, allowNull: true },
        staff_email: { type: DataTypes.STRING(254), allowNull: false },
        action: { type: DataTypes.STRING(64), allowNull: false },
        resource: { type: DataTypes.STRING(64), allowNull: false },
        record_ids: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
        details: { type: DataTypes.TEXT, allowNull: true },
        created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      },
      { sequelize, tableName: 'admin_audit_entries', modelName: 'AdminAuditEntry', timestamps: true, createdAt: 'created_at', updatedAt: false },
    );
  }
}
