import type { Action, ActionResponse, NoticeMessage, RecordActionResponse } from 'adminjs';
import type { AppContext } from '../../src/context.ts';
import { ResendError, resendWelcomeEmail } from '../../src/resend-welcome.ts';
import { audited } from '../audit.ts';

/** Re-sends the welcome email with a new temporary password and turns the outcome into a notice for the panel. */
export async function resendAction(context: AppContext, userId: string): Promise<NoticeMessage> {
  try {
    const outcome = await resendWelcomeEmail(context, userId);
    if (outcome.result === 'sent') {
      return { type: 'success', message: `Welcome email with a new temporary password accepted by the mail server for ${outcome.recipient}. The old password no longer works.` };
    }
    if (outcome.result === 'superseded') {
      return { type: 'error', message: `The email to ${outcome.recipient} was accepted, but the password changed while it was on its way, so the emailed password does not work. Re-send again.` };
    }
    return { type: 'error', message: `The welcome email to ${outcome.recipient} was not accepted (${outcome.code}): ${outcome.message}. The old password still works.` };
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
    guard: 'Reset the password and email new credentials? The new temporary password replaces the old one once the email is accepted.',
    handler: audited(context, async (_request, _response, actionContext): Promise<RecordActionResponse> => {
      const { record, currentAdmin, resource } = actionContext;
      const notice = await resendAction(context, String(record!.id()));
      const fresh = (await resource.findOne(String(record!.id()), actionContext)) ?? record!;
      return { record: fresh.toJSON(currentAdmin), notice };
    }),
  };
}
