import type { Action, ActionResponse, NoticeMessage, RecordActionResponse } from 'adminjs';
import type { AppContext } from '../../src/context.ts';
import { ResendError, resendWelcomeEmail } from '../../src/resend-welcome.ts';
import { audited } from '../audit.ts';

/** Re-sends the welcome email with a new credential and turns the outcome into a notice for the panel. */
export async function resendAction(context: AppContext, userId: string): Promise<NoticeMessage> {
  try {
    const outcome = await resendWelcomeEmail(context, userId);
    if (outcome.result === 'sent') {
      const credential = outcome.credential === 'link' ? 'a new set-password link' : 'a new temporary password';
      return { type: 'success', message: `Welcome email with ${credential} accepted by the mail server for ${outcome.recipient}. The previous password or link no longer works.` };
    }
    return { type: 'error', message: `The welcome email to ${outcome.recipient} was not accepted (${outcome.code}): ${outcome.message}. The previous password or link still works.` };
  } catch (error) {
    if (error instanceof ResendError) return { type: 'error', message: error.message };
    throw error;
  }
}

/** The users' "Reset password and send credentials" action, with the same send-then-replace rule as the re-send. */
export function resetPasswordAction(context: AppContext): Partial<Action<ActionResponse>> {
  return {
    actionType: 'record',
    component: false,
    icon: 'Key',
    guard: 'Reset the password and email new credentials? The new temporary password or set-password link replaces the previous one once the email is accepted.',
    handler: audited(context, async (_request, _response, actionContext): Promise<RecordActionResponse> => {
      const { record, currentAdmin, resource } = actionContext;
      const notice = await resendAction(context, String(record!.id()));
      const fresh = (await resource.findOne(String(record!.id()), actionContext)) ?? record!;
      return { record: fresh.toJSON(currentAdmin), notice };
    }),
  };
}
