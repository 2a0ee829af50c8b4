import { OPCUAClient, UserTokenType } from 'node-opcua';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR, openSession, startTestScada, trustedClient } from './scada.test-support.js';

type Scada = Awaited<ReturnType<typeof startTestScada>>;

describe('OPC UA server security (users from the user directory, no anonymous by default)', () => {
  let scada: Scada;
  const clients: OPCUAClient[] = [];

  beforeAll(async () => {
    scada = await startTestScada({ securityModes: ['SignAndEncrypt'] });
  }, 60_000);
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.disconnect();
  });
  afterAll(async () => {
    await scada?.stop();
  });

  const client = async (mode: 'None' | 'SignAndEncrypt' = 'SignAndEncrypt'): Promise<OPCUAClient> => {
    const c = await trustedClient(scada.server, scada.config.pkiDir!, mode);
    clients.push(c);
    return c;
  };
  const loginFailures = () => scada.env.records.audit.recent(50).filter((e) => e.action === 'loginFailed');

  it('refuses an anonymous session when allowAnonymous is not set', async () => {
    const c = await client();
    // The endpoints offer no anonymous token policy, so node-opcua's client refuses before asking;
    // a client that sends one anyway gets BadIdentityTokenInvalid from the server.
    await expect(openSession(c, scada.server.endpoint, { type: UserTokenType.Anonymous })).rejects.toThrow(/ANONYMOUS user token policy|BadIdentityToken/);
    expect((await OPCUAClientEndpoints(scada.server.endpoint)).some((e) => e.anonymous)).toBe(false);
  });

  it('refuses a wrong password with BadUserAccessDenied, audited as a failed login of that user', async () => {
    const c = await client();
    await expect(openSession(c, scada.server.endpoint, { type: UserTokenType.UserName, userName: OPERATOR.userName, password: 'not-the-password' })).rejects.toThrow(
      /BadUserAccessDenied/,
    );
    expect(loginFailures()[0]).toMatchObject({ objectId: OPERATOR.userName, reason: 'OPC UA session: wrong' });
    expect(loginFailures()[0]!.client).toMatch(/^opc\.tcp /);
  });

  it('opens a session for the right password over SignAndEncrypt and audits the login', async () => {
    const c = await client();
    const session = await openSession(c, scada.server.endpoint, { type: UserTokenType.UserName, ...OPERATOR });
    await session.close();
    const login = scada.env.records.audit.recent(50).find((e) => e.action === 'login' && e.objectType === 'opcuaSession');
    expect(login).toMatchObject({ actor: { user: OPERATOR.userName, role: 'operator' } });
  });

  it('offers no session without security when securityModes leaves None out', async () => {
    const c = await client('None');
    await expect(openSession(c, scada.server.endpoint, { type: UserTokenType.UserName, ...OPERATOR })).rejects.toThrow();
    const endpoints = await OPCUAClientEndpoints(scada.server.endpoint);
    expect(endpoints.filter((e) => e.securityMode !== 'None').length).toBeGreaterThan(0);
    expect(endpoints.every((e) => e.securityMode !== 'None' || e.userTokens === 0)).toBe(true);
  });
});

describe('OPC UA server with allowAnonymous: true', () => {
  let scada: Scada;
  let c: OPCUAClient;

  beforeAll(async () => {
    scada = await startTestScada({ securityModes: ['None'], allowAnonymous: true });
    c = await trustedClient(scada.server, scada.config.pkiDir!, 'None');
  }, 60_000);
  afterAll(async () => {
    await c?.disconnect();
    await scada?.stop();
  });

  it('lets an anonymous session browse the VisionSystems', async () => {
    const session = await openSession(c, scada.server.endpoint, { type: UserTokenType.Anonymous });
    const refs = await session.browse('ns=0;i=85');
    expect(refs.references!.map((r) => r.browseName.name)).toEqual(expect.arrayContaining(['blister', 'gowning']));
    await session.close();
  });
});

/** The server's endpoints as GetEndpoints lists them: mode and how many user token policies each has. */
async function OPCUAClientEndpoints(endpoint: string): Promise<{ securityMode: string; userTokens: number; anonymous: boolean }[]> {
  const c = OPCUAClient.create({ endpointMustExist: false, connectionStrategy: { maxRetry: 0 } });
  await c.connect(endpoint);
  const list = await c.getEndpoints();
  await c.disconnect();
  return list.map((e) => ({ securityMode: ['Invalid', 'None', 'Sign', 'SignAndEncrypt'][e.securityMode] ?? '?', userTokens: e.userIdentityTokens?.length ?? 0,
    anonymous: (e.userIdentityTokens ?? []).some((t) => t.tokenType === UserTokenType.Anonymous),
  }));
}
