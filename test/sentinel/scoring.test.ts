/**
 * The sentinel's scoring on both stores: baselines from the role's history lower the day and
 * hour limits; patients seen only in the archive count against their own, lower limits; a
 * walk through barcodes, refusals in a row and a copied token make the limits stricter. The
 * app's own sentinel is called at its interface, as the vault calls it when a response is
 * about to leave (pseudonyms are random test strings, no data).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrincipal, principalFromRow } from '../../src/auth/index.js';
import { randomId, systemClock, systemRandom } from '../../src/kernel/index.js';
import type { Role } from '../../src/store/index.js';
import type { AccessContext, Release, SearchShape } from '../../src/vault/index.js';
import { people } from '../support/people.js';
import { principalRow } from '../support/store-fixtures.js';
import { BACKENDS, createVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

const DAY = 86_400_000;
/** A bulk integration with limits of its own (`principals` in the policy). */
const BULK_ID = `bulk${randomId(systemRandom).slice(0, 20)}`;

describe.each(BACKENDS)('the sentinel scores behaviour (%s)', (backend) => {
  let f: VaultFixture;

  beforeAll(async () => {
    f = await createVaultFixture(backend, {
      sentinelPolicy: {
        signals: { workingHours: null },
        // Small numbers, so that a test crosses a baseline in a few calls.
        baseline: { minimumDay: 4, minimumHour: 4, multiplier: 2, minOwnDays: 3, minPeerDays: 6 },
        archive: { afterDays: 90, windows: [{ seconds: 3_600, patients: 8, bytes: null }] },
        principals: { [BULK_ID]: [{ seconds: 600, patients: 40, bytes: null }] },
      },
    });
  }, 60_000);
  afterAll(() => f.cleanup());

  const principal = async (role: Role, id?: string): Promise<AccessContext> => {
    const row = id
      ? principalRow({ id, role, kind: 'service', tenants: [f.tenants.a], displayName: `scoring-${role}-bulk` })
      : await createPrincipal({ store: f.app.store, clock: systemClock, random: systemRandom }, {
        role, tenants: [f.tenants.a], displayName: `scoring-${role}-${randomId(systemRandom).slice(0, 6)}`, kind: 'service',
      });
    if (id) await f.app.store.insertPrincipal(row);
    return f.app.vault.context(principalFromRow(row, 'scoring-test'), { tenant: f.tenants.a, ip: '192.0.2.9', userAgent: 'scoring-test' });
  };
  const patient = () => `p${randomId(systemRandom)}`;
  const release = (patients: string[], o: { lastChanged?: string | null; inProgress?: boolean; query?: SearchShape | null } = {}): Release => ({
    operation: 'search', type: 'Observation', patients, lastChanged: patients.map(() => o.lastChanged ?? new Date().toISOString()),
    inProgress: patients.map(() => o.inProgress ?? false),
    records: patients.length, bytes: 1_000 * patients.length, query: o.query ?? null,
  });
  /** Releases one new patient per call until the sentinel refuses; returns how many left. */
  const untilRefused = async (ctx: AccessContext, max: number, o: Parameters<typeof release>[1] = {}): Promise<number> => {
    for (let i = 0; i < max; i++) {
      try {
        await f.app.sentinel.release(ctx, release([patient()], o));
      } catch (e) {
        expect((e as { code?: string }).code).toBe('ERR_FORBIDDEN');
        return i;
      }
    }
    return max;
  };
  const containment = (ctx: AccessContext) => f.app.store.sentinel.liveContainment(ctx.principal.id);

  it('lowers the day and hour limits to a multiple of what the role normally touches', async () => {
    // History: three validators who each touched 3 patients a day for the past four days.
    for (let v = 0; v < 3; v++) {
      const id = `hist-validator-${v}-${randomId(systemRandom).slice(0, 6)}`;
      for (let d = 1; d <= 4; d++) {
        await f.app.store.sentinel.recordRelease({
          principalId: id, role: 'validator', tenant: f.tenants.a, pseudonyms: [patient(), patient(), patient()], records: 3, bytes: 300,
          at: new Date(Date.now() - d * DAY).toISOString(),
        }, []);
      }
    }
    // Peers' 95th percentile is 3: the day limit is 2 × 3 = 6, the hour's max(4, 3) = 4,
    // far under the hard 20 in ten minutes. The fifth patient in an hour is refused.
    const validator = await principal('validator');
    expect(await untilRefused(validator, 25)).toBe(4);
    expect(await containment(validator)).toMatchObject({ reason: 'patients-3600s' });
    // A role without history keeps the hard limits: 20 in ten minutes.
    const requester = await principal('requester');
    expect(await untilRefused(requester, 25)).toBe(20);
    expect(await containment(requester)).toMatchObject({ reason: 'patients-600s' });
  });

  it('counts patients seen only in the archive against the lower archive limits', async () => {
    const old = new Date(Date.now() - 200 * DAY).toISOString();
    const analyst = await principal('analyst');
    // Current work does not count as archive...
    for (let i = 0; i < 5; i++) await f.app.sentinel.release(analyst, release([patient()]));
    // ...old records do: 8 archived patients in an hour pass, the 9th is refused (5 + 9 is
    // still far under the hard 20 in ten minutes).
    expect(await untilRefused(analyst, 30, { lastChanged: old })).toBe(8);
    expect(await containment(analyst)).toMatchObject({ reason: 'archive-patients-3600s' });
  });

  it('makes the limits stricter for a walk through barcodes in sequence', async () => {
    const requester = await principal('requester');
    // Eight barcodes one step apart: a walk. The ten-minute limit halves from 20 to 10.
    let n = 0;
    const walking = (): { query: SearchShape } => ({ query: { broad: false, identifiers: [`LKW${String(1000 + n++).padStart(6, '0')}`] } });
    let passed = 0;
    for (let i = 0; i < 25; i++) {
      try {
        await f.app.sentinel.release(requester, release([patient()], walking()));
        passed += 1;
      } catch {
        break;
      }
    }
    expect(passed).toBe(10);
    const c = await containment(requester);
    expect(c?.reason).toBe('patients-600s');
    const alert = (await f.app.store.safeguards.listAlerts({ open: true, limit: 200 })).find((a) => a.id === c?.alertId);
    expect(alert?.kind).toBe('sentinel:patients-600s');
  });

  it('does not call scattered barcodes a walk', async () => {
    const requester = await principal('requester');
    const scattered = (i: number): { query: SearchShape } => ({ query: { broad: false, identifiers: [`LKW${String(5000 + i * 97).padStart(6, '0')}`] } });
    for (let i = 0; i < 20; i++) await f.app.sentinel.release(requester, release([patient()], scattered(i)));
    expect(await containment(requester)).toBeNull();
  });

  it('makes the limits stricter after refusals in a row and after a copied token', async () => {
    const prober = await principal('requester');
    for (let i = 0; i < 10; i++) f.app.sentinel.refused(prober);
    expect(await untilRefused(prober, 25)).toBe(10);
    const replayed = await principal('requester');
    await f.app.sentinel.signal('token-replay', replayed.principal.id, { ip: null, userAgent: null });
    expect(await untilRefused(replayed, 25)).toBe(10);
    // Nine refusals with a success in between are no run.
    const clumsy = await principal('requester');
    for (let i = 0; i < 9; i++) f.app.sentinel.refused(clumsy);
    await f.app.sentinel.release(clumsy, release([patient()]));
    for (let i = 0; i < 9; i++) f.app.sentinel.refused(clumsy);
    expect(await untilRefused(clumsy, 25)).toBe(19);
  });

  it('counts work in progress in its own, wider windows, and final records in the hard ones', async () => {
    const registrar = await principal('registrar');
    // 30 patients whose records are all in progress: past the hard 20, within the work 60.
    for (let i = 0; i < 30; i++) await f.app.sentinel.release(registrar, release([patient()], { inProgress: true }));
    expect(await containment(registrar)).toBeNull();
    // Final records still count in the hard windows: 20 pass, the 21st is refused.
    expect(await untilRefused(registrar, 25)).toBe(20);
    expect(await containment(registrar)).toMatchObject({ reason: 'patients-600s' });
    const batcher = await principal('registrar');
    expect(await untilRefused(batcher, 70, { inProgress: true })).toBe(60);
    expect(await containment(batcher)).toMatchObject({ reason: 'work-patients-600s' });
  });

  it('lets a baselined worklist take its whole work day limit within an hour', async () => {
    // History: three validators who each had 3 patients of work in progress a day for four days.
    for (let v = 0; v < 3; v++) {
      const id = `hist-worklist-${v}-${randomId(systemRandom).slice(0, 6)}#work`;
      for (let d = 1; d <= 4; d++) {
        await f.app.store.sentinel.recordRelease({
          principalId: id, role: 'validator#work', tenant: f.tenants.a, pseudonyms: [patient(), patient(), patient()], records: 0, bytes: 0,
          at: new Date(Date.now() - d * DAY).toISOString(),
        }, []);
      }
    }
    // The work day limit is 2 × 3 = 6, and so is its hour limit (not half of it: a worklist is
    // authorised in bursts). The seventh patient in an hour is refused.
    const validator = await principal('validator');
    expect(await untilRefused(validator, 25, { inProgress: true })).toBe(6);
    expect(await containment(validator)).toMatchObject({ reason: 'work-patients-3600s' });
  });

  it('gives a principal named in the policy its own hard limits', async () => {
    const bulk = await principal('requester', BULK_ID);
    expect(await untilRefused(bulk, 50)).toBe(40);
    expect(await containment(bulk)).toMatchObject({ reason: 'patients-600s' });
  });

  it('makes the limits stricter after a sign-in from a network the account has not used', async () => {
    const p = people(f);
    const analyst = await p.enrol({ role: 'analyst' });
    const sessions = await f.app.store.accounts.listSessions(analyst.principalId);
    const known = sessions[0]!.ip!;
    const ctx = f.app.vault.context(principalFromRow((await f.app.store.getPrincipal(analyst.principalId))!, 'scoring-test'), { tenant: f.tenants.a });
    // Another address in the same /24: a known network.
    await f.app.sentinel.sessionOpened(analyst.principalId, null, known.replace(/\d+$/, '250'));
    for (let i = 0; i < 12; i++) await f.app.sentinel.release(ctx, release([patient()]));
    expect(await containment(ctx)).toBeNull();
    const other = await p.enrol({ role: 'analyst' });
    const otherCtx = f.app.vault.context(principalFromRow((await f.app.store.getPrincipal(other.principalId))!, 'scoring-test'), { tenant: f.tenants.a });
    await f.app.sentinel.sessionOpened(other.principalId, null, '198.51.100.7');
    expect(await untilRefused(otherCtx, 25)).toBe(10);
  });

  it('compares a requester system with systems of the same kind of client only', async () => {
    const seedPeers = async (group: string) => {
      for (let v = 0; v < 3; v++) {
        const id = `hist-${group}-${v}-${randomId(systemRandom).slice(0, 6)}`;
        for (let d = 1; d <= 4; d++) {
          await f.app.store.sentinel.recordRelease({
            principalId: id, role: group, tenant: f.tenants.a, pseudonyms: [patient(), patient(), patient()], records: 3, bytes: 300,
            at: new Date(Date.now() - d * DAY).toISOString(),
          }, []);
        }
      }
    };
    // Quiet hospital systems (and counts kept for the role as a whole) say nothing about a GP
    // practice's system: it has no peers of its kind yet, and keeps the hard limits.
    await seedPeers('requester@hospital');
    await seedPeers('requester');
    const gp = await principal('requester');
    expect(await untilRefused(gp, 25)).toBe(20);
  });
});
