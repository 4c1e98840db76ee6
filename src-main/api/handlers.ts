// The transport-independent request layer: a frame comes in (from a WebSocket or from Electron IPC), is
// checked against the contract's zod schemas, goes to the handler of that request, and a response frame
// goes back: `{ ok: true, result }` or `{ ok: false, error: { code, message } }`. Invalid frames and params
// never reach a handler. Transports only move frames; they add nothing to this.
import type { z } from 'zod';
import {
  isRequestName,
  requestFrameSchema,
  requests,
  type ApiError,
  type ApiErrorCode,
  type RequestName,
  type RequestResult,
  type ResponseFrame,
  type ValidatedParams,
} from './contract.ts';
import { AllocationError, DeviceError, InternalError } from '../../allocator/index.ts';
import { ImportError } from '../../allocator/import/model.ts';
import { ProfileError } from '../../allocator/profiles/profile-error.ts';
import { TraceFormatError } from '../../allocator/trace/index.ts';
import { WorkloadParseError } from '../../allocator/workload.ts';
import { DeviceOpenError } from '../session/open-device.ts';
import { ScenarioNotFoundError } from '../session/scenario-loader.ts';
import { ScenarioParamError } from '../session/scenario-params.ts';
import { ScenarioUsageError } from '../session/scenario-context.ts';
import { printable } from '../../allocator/text/printable.ts';
import { ApiFailure } from './api-failure.ts';

/** Who sent a request: a WebSocket connection or an Electron window. */
export interface RequestContext {
  readonly clientId: string;
  readonly transport: 'web' | 'ipc' | 'in-process';
}

/** One function per request of the contract; params arrive validated (defaults applied). */
export type RequestHandlers = {
  readonly [N in RequestName]: (
    params: ValidatedParams<N>,
    context: RequestContext,
  ) => Promise<RequestResult<N>> | RequestResult<N>;
};

export interface DispatcherOptions {
  /**
   * Also check each result against the contract's result schema (a handler bug becomes an Internal
   * error instead of a malformed response). On in tests; costs a parse per response.
   */
  readonly checkResults?: boolean;
  /** Where unexpected handler errors are reported with their stack (default: stderr). */
  readonly onInternalError?: (name: string, error: unknown) => void;
}

export type Dispatcher = (frame: unknown, context: RequestContext) => Promise<ResponseFrame>;

/** "params.device.kind: Invalid input" style, first issue only: one sentence saying what and where. */
function describeIssues(name: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `The params of "${name}" are invalid.`;
  const where = issue.path.length > 0 ? `params.${issue.path.map(String).join('.')}` : 'params';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return `Invalid request "${name}": ${where}: ${issue.message}${more}.`;
}

function failure(id: number, code: ApiErrorCode, message: string): ResponseFrame {
  const error: ApiError = { code, message };
  return { t: 'res', id, ok: false, error };
}

/**
 * The engine's errors that describe the user's input or environment (a malformed trace or dump, a device
 * that cannot open or ran out of memory, a scenario that does not exist or whose script misbehaved): the
 * user can act on their one-sentence message, so they answer Failed. The allocator's own InternalError is
 * a bug and is not among them.
 */
export const userFacingErrorClasses: readonly (abstract new (...args: never[]) => Error)[] = [
  AllocationError,
  DeviceError,
  DeviceOpenError,
  TraceFormatError,
  ImportError,
  ProfileError,
  WorkloadParseError,
  ScenarioNotFoundError,
  ScenarioParamError,
  ScenarioUsageError,
];

export function isUserFacingError(error: unknown): error is Error {
  if (error instanceof InternalError) return false;
  return userFacingErrorClasses.some((c) => error instanceof c);
}

/**
 * Maps what a handler threw to an error response: ApiFailure (UserError included) keeps its code, the
 * engine's user-facing errors answer Failed, anything else is Internal and reported with its stack.
 */
function errorResponse(
  id: number,
  name: string,
  error: unknown,
  report: (n: string, e: unknown) => void,
): ResponseFrame {
  if (error instanceof ApiFailure) return failure(id, error.code, error.message);
  if (isUserFacingError(error)) return failure(id, 'Failed', error.message);
  report(name, error);
  const message = error instanceof Error ? error.message : String(error);
  return failure(
    id,
    'Internal',
    `"${name}" failed unexpectedly (a bug in VRAMscope): ${printable(message, 300)}`,
  );
}

export function createDispatcher(handlers: RequestHandlers, options: DispatcherOptions = {}): Dispatcher {
  const report =
    options.onInternalError ??
    ((name: string, error: unknown) => {
      // One escaped line per failure in the server's log: messages can carry names from clients.
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`vramscope: request "${name}" failed: ${printable(text, 4000)}`);
    });

  return async (raw, context) => {
    const frame = requestFrameSchema.safeParse(raw);
    if (!frame.success) {
      const id =
        raw !== null && typeof raw === 'object' && Number.isSafeInteger((raw as { id?: unknown }).id)
          ? (raw as { id: number }).id
          : -1;
      return failure(id, 'InvalidRequest', 'The message is not a request frame {t:"req", id, name, params}.');
    }
    const { id, name } = frame.data;
    if (!isRequestName(name)) {
      return failure(id, 'UnknownRequest', `There is no request named "${name}".`);
    }
    const spec = requests[name];
    const params = spec.params.safeParse(frame.data.params ?? {});
    if (!params.success) return failure(id, 'InvalidRequest', describeIssues(name, params.error));

    try {
      const handler = handlers[name] as (p: unknown, c: RequestContext) => Promise<unknown> | unknown;
      const result = await handler(params.data, context);
      if (options.checkResults) {
        const checked = spec.result.safeParse(result);
        if (!checked.success) {
          report(name, checked.error);
          return failure(
            id,
            'Internal',
            `The result of "${name}" broke the contract: ${describeIssues(name, checked.error)}`,
          );
        }
      }
      return { t: 'res', id, ok: true, result };
    } catch (error) {
      return errorResponse(id, name, error, report);
    }
  };
}
