import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** One run of the batch processor, from any trigger, with its counts once it finished. */
export class ProcessorRun extends Model<InferAttributes<ProcessorRun>, InferCreationAttributes<ProcessorRun>> {
  declare id: CreationOptional<string>;
  /** Trigger of the run: `schedule`, `command` or `admin`. */
  declare trigger: string;
  declare host: string;
  declare pid: number;
  declare started_at: CreationOptional<Date>;
  declare finished_at: Date | null;
  declare processed: CreationOptional<number>;
  declare existing: CreationOptional<number>;
  declare failed: CreationOptional<number>;
  declare skipped: CreationOptional<number>;
  declare duration_ms: number | null;

  static initialise(sequelize: Sequelize) {
    ProcessorRun.init(
      {
        id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
        trigger: { type: DataTypes.STRING(32), allowNull: false },
        host: { type: DataTypes.STRING(255), allowNull: false },
        pid: { type: DataTypes.INTEGER, allowNull: false },
        started_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
        finished_at: { type: DataTypes.DATE, allowNull: true },
        processed: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        existing: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        failed: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        skipped: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
        duration_ms: { type: DataTypes.INTEGER, allowNull: true },
      },
      { sequelize, tableName: 'processor_runs', modelName: 'ProcessorRun', timestamps: false },
    );
  }
}
