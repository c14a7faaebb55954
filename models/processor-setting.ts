import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** The processor's shared settings: one row (id 1) that every processor reads before it claims subscribers. */
export class ProcessorSetting extends Model<InferAttributes<ProcessorSetting>, InferCreationAttributes<ProcessorSetting>> {
  declare id: CreationOptional<number>;
  /** While true, no processor claims a subscriber: scheduled runs, workers and admin actions alike. */
  declare paused: CreationOptional<boolean>;
  declare paused_at: Date | null;
  /** Who paused processing: a staff member's email, or the command that did it. */
  declare paused_by: string | null;
  declare updated_at: CreationOptional<Date>;

  static initialise(sequelize: Sequelize) {
    ProcessorSetting.init(
      {
        id: { type: DataTypes.SMALLINT, primaryKey: true, defaultValue: 1 },
        paused: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
        paused_at: { type: DataTypes.DATE, allowNull: true },
        paused_by: { type: DataTypes.STRING(254), allowNull: true },
        updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      },
      { sequelize, tableName: 'processor_settings', modelName: 'ProcessorSetting', timestamps: true, createdAt: false, updatedAt: 'updated_at' },
    );
  }
}
