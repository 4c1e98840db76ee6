// How the dispatcher answers what a handler throws: the user's failures (UserError, the engine's
// user-facing errors) as Failed with their sentence; anything else — a bug, a Node error with a string
// `code` such as ENOENT — as Internal, reported with its stack, never disguised as the user's Failed.
import { describe, expect, test } from 'vitest';
import { DeviceError, InternalError, OutOfMemoryError } from '../../allocator/index.ts';
import { TraceFormatError } from '../../allocator/trace/index.ts';
import { ApiFailure, UserError } from '../../src-main/api/api-failure.ts';
import { createDispatcher, type RequestHandlers } from '../../src-main/api/handlers.ts';
import type { ResponseFrame } from '../../src-main/api/contract.ts';

/** A dispatcher whose listScenarios throws `error`; returns the response and what was reported. */
async function answerTo(error: unknown): Promise<{ response: ResponseFrame; reported: unknown[] }> {
  const reported: unknown[] = [];
  const handlers = {
    listScenarios: () => {
      throw error;
    },
  } as unknown as RequestHandlers;
  const dispatch = createDispatcher(handlers, { onInternalError: (_name, e) => reported.push(e) });
  const response = await dispatch(
    { t: 'req', id: 7, name: 'listScenarios', params: {} },
    { clientId: 'test', transport: 'in-process' },
  );
  return { response, reported };
}

function errorOf(r: ResponseFrame): { code: string; message: string } {
  if (r.ok) throw new Error('expected an error response');
  return r.error;
}

describe('dispatcher errors', () => {
  test("the user's failures answer Failed with their own sentence and are not reported as bugs", async () => {
    for (const error of [
      new UserError('The trace is torn at byte 12.'),
      new DeviceError('VK_ERROR_OUT_OF_DEVICE_MEMORY', 'vkAllocateMemory failed: out of device memory'),
      new OutOfMemoryError('no block of type 1 has room for 2 GiB'),
      new TraceFormatError('not a VRAMscope trace', 0),
    ]) {
      const { response, reported } = await answerTo(error);
      expect(errorOf(response)).toEqual({ code: 'Failed', message: error.message });
      expect(reported).toEqual([]);
    }
    const { response } = await answerTo(new ApiFailure('NotFound', 'There is no trace "x".'));
    expect(errorOf(response).code).toBe('NotFound');
  });

  test('a Node error with a string code is Internal and reported with its stack', async () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/nowhere'"), {
      code: 'ENOENT',
      errno: -2,
    });
    const { response, reported } = await answerTo(enoent);
    expect(errorOf(response).code).toBe('Internal');
    expect(errorOf(response).message).toMatch(/listScenarios.*bug in VRAMscope.*ENOENT/);
    expect(reported).toEqual([enoent]);
    expect((reported[0] as Error).stack).toContain('api-errors.test.ts');
  });

  test("the allocator's InternalError, a TypeError and a thrown string are Internal", async () => {
    for (const error of [new InternalError('free list corrupt'), new TypeError('x is undefined'), 'boom']) {
      const { response, reported } = await answerTo(error);
      expect(errorOf(response).code).toBe('Internal');
      expect(reported).toHaveLength(1);
    }
  });
});
