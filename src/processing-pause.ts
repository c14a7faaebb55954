import type { Transaction } from 'sequelize';
import type { AppContext } from './context.ts';

/** Whether processing is paused, and who paused it when. */
export interface PauseState {
  paused: boolean;
  pausedAt: Date | null;
  pausedBy: string | null;
}

/**
 * Reads the pause switch from the database. Every processor reads it before claiming, so a switch
 * flipped in one process stops scheduled runs, standalone workers and admin actions in all of them.
 */
export async function readPauseState(context: AppContext, transaction?: Transaction): Promise<PauseState> {
  const settings = await context.models.ProcessorSetting.findByPk(1, { transaction });

  // The migration inserts the row, so a missing row can only mean that processing was never paused.
  if (!settings) return { paused: false, pausedAt: null, pausedBy: null };
  return { paused: settings.paused, pausedAt: settings.paused_at, pausedBy: settings.paused_by };
}

/** Pauses or resumes processing for every processor and logs who did it. Pausing again keeps the first time and name. */
export async function setPaused(context: AppContext, paused: boolean, by: string): Promise<PauseState> {
  const { ProcessorSetting } = context.models;
  const now = context.now();

  const changed = await context.database.sequelize.transaction(async (transaction) => {
    const [settings] = await ProcessorSetting.findOrCreate({ where: { id: 1 }, defaults: { id: 1, paused_at: null, paused_by: null }, transaction, lock: true });
    if (settings.paused === paused) return false;

    await settings.update({ paused, paused_at: paused ? now : null, paused_by: paused ? by : null, updated_at: now }, { transaction });
    return true;
  });

  if (changed) context.logger.info({ by }, paused ? 'processing paused' : 'processing resumed');
  return readPauseState(context);
}
