import type { Sequelize } from 'sequelize';
import { AdminAuditEntry } from './admin-audit-entry.ts';
import type { InputOptions } from '../src/subscriber-input.ts';
import { EmailDelivery } from './email-delivery.ts';
import { PasswordToken } from './password-token.ts';
import { ProcessorRun } from './processor-run.ts';
import { ProcessorSetting } from './processor-setting.ts';
import { User } from './user.ts';
import { WaitlistSubscriber } from './waitlist-subscriber.ts';

export { EmailDelivery, PasswordToken, ProcessorRun, User, WaitlistSubscriber };
export { AdminAuditEntry, ProcessorSetting };

export interface Models {
  User: typeof User;
  WaitlistSubscriber: typeof WaitlistSubscriber;
  EmailDelivery: typeof EmailDelivery;
  ProcessorRun: typeof ProcessorRun;
  PasswordToken: typeof PasswordToken;
  ProcessorSetting: typeof ProcessorSetting;
  AdminAuditEntry: typeof AdminAuditEntry;
}

/** Binds every model to `sequelize` and declares the associations between them; `subscriberInput` tunes the subscriber rules. */
export function defineModels(sequelize: Sequelize, subscriberInput: InputOptions = {}): Models {
  User.initialise(sequelize);
  WaitlistSubscriber.initialise(sequelize, subscriberInput);
  EmailDelivery.initialise(sequelize);
  ProcessorRun.initialise(sequelize);
  PasswordToken.initialise(sequelize);
  ProcessorSetting.initialise(sequelize);
  AdminAuditEntry.initialise(sequelize);

  WaitlistSubscriber.belongsTo(User, { foreignKey: 'user_id', as: 'user' });
  User.hasMany(WaitlistSubscriber, { foreignKey: 'user_id', as: 'subscribers' });
  EmailDelivery.belongsTo(WaitlistSubscriber, { foreignKey: 'subscriber_id', as: 'subscriber' });
  EmailDelivery.belongsTo(User, { foreignKey: 'user_id', as: 'user' });
  WaitlistSubscriber.hasMany(EmailDelivery, { foreignKey: 'subscriber_id', as: 'deliveries' });
  PasswordToken.belongsTo(User, { foreignKey: 'user_id', as: 'user' });

  AdminAuditEntry.belongsTo(User, { foreignKey: 'staff_user_id', as: 'staffUser' });

  return { User, WaitlistSubscriber, EmailDelivery, ProcessorRun, PasswordToken, ProcessorSetting, AdminAuditEntry };
}
