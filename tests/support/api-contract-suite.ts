// The API contract exercised through one transport. Written once; api-web.test.ts runs it over the web
// server (a real `vramscope serve` process) and api-ipc.test.ts over the IPC endpoint without Electron.
// Every result is checked against the contract's result schema on the client side.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ApiRequestError,
  requestNames,
  requests,
  type ApiErrorCode,
  type RequestName,
  type RequestParams,
  type RequestResult,
} from '../../src-main/api/contract.ts';
import type { ContractTransport, TestClient } from './api-transports.ts';

export async function call<N extends RequestName>(
  client: TestClient,
  name: N,
  params: RequestParams<N>,
): Promise<RequestResult<N>> {
  const result = await client.api.request(name, params);
  const checked = requests[name].result.safeParse(result);
  if (!checked.success) throw new Error(`${name} broke its result schema: ${checked.error.message}`);
  return result;
}

export async function failure(promise: Promise<unknown>): Promise<{ code: ApiErrorCode; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiRequestError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the request succeeded but should have failed');
}

/** Params that fail each request's schema: an unknown key (every params object is strict). */
function invalidParamsFor(name: RequestName): unknown[] {
  const bad: unknown[] = [{ notAParam: 1 }, 42, 'text', [1, 2]];
  // Requests whose params are all optional accept {}; the others miss a required field.
  if (requests[name].params.safeParse({}).success === false) bad.push({});
  return bad;
}

export function defineContractSuite(
  makeTransport: () => Promise<ContractTransport> | ContractTransport,
): void {
  let transport: ContractTransport;
  let a: TestClient;
  let b: TestClient;

  beforeAll(async () => {
    transport = await makeTransport();
    a = await transport.connect();
    b = await transport.connect();
  });
  afterAll(async () => {
    await transport?.close();
  });

  describe('state', () => {
    test('getState lists sample traces with sizes and no open sources at start', async () => {
      const state = await call(a, 'getState', {});
      expect(state.sessions).toEqual([]);
      expect(state.traces).toEqual([]);
      for (const sample of state.sampleTraces) {
        expect(sample.path.endsWith(sample.name)).toBe(true);
        expect(sample.bytes).toBeGreaterThan(0);
      }
    });
  });

  describe('invalid requests get typed error responses and never reach a handler', () => {
    test('every request rejects params that break its schema with InvalidRequest', async () => {
      let checked = 0;
      for (const name of requestNames) {
        for (const params of invalidParamsFor(name)) {
          const error = await failure(a.api.request(name, params as never));
          expect(error.code, `${name} with ${JSON.stringify(params)}`).toBe('InvalidRequest');
          expect(error.message).toContain(name);
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(requestNames.length * 4);
    });

    test('the message names the field that is wrong', async () => {
      const error = await failure(
        a.api.request('queryTimeline', { sourceId: 'trace-1', buckets: 0 } as RequestParams<'queryTimeline'>),
      );
      expect(error.code).toBe('InvalidRequest');
      expect(error.message).toContain('params.buckets');
    });

    test('sizes past 2^53 and non-integers are refused', async () => {
      for (const eventIndex of [2 ** 53, 1.5, -1, Number.NaN]) {
        const error = await failure(a.api.request('snapshotAt', { sourceId: 'trace-1', eventIndex }));
        expect(error.code).toBe('InvalidRequest');
      }
    });

    test('an unknown request name is UnknownRequest', async () => {
      const error = await failure(a.api.request('dropAllTables' as RequestName, {} as never));
      expect(error.code).toBe('UnknownRequest');
    });

    test('unknown sources, sessions and runs are NotFound', async () => {
      expect(
        (await failure(a.api.request('snapshotAt', { sourceId: 'trace-999', eventIndex: 0 }))).code,
      ).toBe('NotFound');
      expect((await failure(a.api.request('closeSession', { sessionId: 'session-999' }))).code).toBe(
        'NotFound',
      );
      expect((await failure(a.api.request('pauseRun', { runId: 'run-999' }))).code).toBe('NotFound');
    });
  });

  describe('clients', () => {
    test('two clients are answered independently and concurrently', async () => {
      const [x, y] = await Promise.all([call(a, 'getState', {}), call(b, 'getState', {})]);
      expect(x).toEqual(y);
    });
  });
}
