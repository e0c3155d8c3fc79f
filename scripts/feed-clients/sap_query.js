// Queries the feed with the typed client that the SAP Cloud SDK generator
// made from its $metadata (unpatched), and compares the results with what
// the feed answers to plain HTTP requests. Both authenticate with HTTP Basic
// (the client id and secret in FEED_CLIENT_ID / FEED_CLIENT_SECRET).
// It also filters the DateTimeOffset lastLogin with a moment at +01:00 and
// prints the URL the client sent for it, and does CRUD: creates a user,
// updates it with its ETag (If-Match), gets 412 for the stale ETag, deletes it.
// Usage: node sap_query.js GENERATED_CLIENT_DIR FEED_ROOT_URL
const path = require('path');
const assert = require('assert');
const http = require('http');
// Records the path of every request the SDK sends (axios ends in
// http.request); it only observes.
const sent = [];
const request = http.request;
http.request = function (...args) {
  const req = request.apply(this, args);
  sent.push(req.path);
  return req;
};
const moment = require('moment');
const { asc } = require('@sap-cloud-sdk/odata-v4');
const { identity } = require(path.resolve(process.argv[2]));
const url = process.argv[3].replace(/\/$/, '');
const username = process.env.FEED_CLIENT_ID;
const password = process.env.FEED_CLIENT_SECRET;
const basic = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');

async function plain(relative) {
  const response = await fetch(`${url}/${relative}`, { headers: { Authorization: basic } });
  assert.strictEqual(response.status, 200, relative);
  return response.text();
}

(async () => {
  const { usersApi, rolesApi } = identity();
  const s = usersApi.schema;
  const dest = { url, username, password, authentication: 'BasicAuthentication' };

  const some = await usersApi.requestBuilder().getAll()
    .filter(s.STATUS.equals(1))
    .orderBy(asc(s.USER_KEY))
    .select(s.ID, s.USER_KEY, s.NAME, s.CREATED_ON, s.ROLES)
    .expand(s.ROLES.select(rolesApi.schema.ROLE_KEY))
    .top(3)
    .execute(dest);
  assert.strictEqual(some.length, 3);
  const keys = some.map(u => u.userKey);
  assert.deepStrictEqual(keys, [...keys].sort());
  for (const u of some) {
    assert.ok(u.createdOn.isValid(), 'createdOn is a timestamp');
    const roles = JSON.parse(await plain(`Users(${u.id})/roles?$select=roleKey`)).value.map(r => r.roleKey);
    assert.deepStrictEqual(u.roles.map(r => r.roleKey).sort(), roles.sort());
  }

  const count = await usersApi.requestBuilder().getAll().count().execute(dest);
  assert.strictEqual(count, Number(await plain('Users/$count')));

  const one = await usersApi.requestBuilder().getByKey(some[0].id).execute(dest);
  assert.strictEqual(one.userKey, some[0].userKey);
  assert.strictEqual(one.status, 1);

  const role = await rolesApi.requestBuilder().getAll().top(1).execute(dest);
  assert.strictEqual(role.length, 1);

  // DateTimeOffset (typed as a moment) with a +01:00 offset. The threshold
  // is the 50th most recent lastLogin (truncated to the second), so the
  // answer is neither empty nor everyone and fits one page (getAll() does
  // not follow nextLinks); dropping the offset would lose that user.
  const pivot = JSON.parse(await plain('Users?$select=id,lastLogin&$orderby=lastLogin%20desc&$skip=49&$top=1')).value[0];
  const instant = moment.utc(pivot.lastLogin).startOf('second');
  const local = () => instant.clone().utcOffset(60);  // e.g. 2026-10-31T12:42:22+01:00
  assert.ok(local().format().endsWith('+01:00'), local().format());
  async function withParams(filter) {
    const ids = new Set();
    let next = `${url}/Users?${new URLSearchParams({ $filter: filter, $select: 'id' })}`;
    while (next) {
      const response = await fetch(next, { headers: { Authorization: basic } });
      assert.strictEqual(response.status, 200, `${next}: ${await response.clone().text()}`);
      const page = await response.json();
      page.value.forEach(u => ids.add(u.id));
      next = page['@odata.nextLink'];
    }
    return [...ids].sort();
  }
  const expected = await withParams(`lastLogin ge ${instant.format('YYYY-MM-DDTHH:mm:ss')}Z`);
  assert.ok(expected.includes(pivot.id) && expected.length >= 50 && expected.length < 100, expected.length);
  const wrong = await withParams(`lastLogin ge ${local().format('YYYY-MM-DDTHH:mm:ss')}Z`);
  assert.ok(!wrong.includes(pivot.id), 'the check must tell +01:00 from Z');

  async function offsetFilter(api) {
    const given = local();
    sent.length = 0;
    const users = await api.requestBuilder().getAll()
      .filter(api.schema.LAST_LOGIN.greaterOrEqual(given))
      .select(api.schema.ID)
      .execute(dest);
    assert.deepStrictEqual(users.map(u => u.id).sort(), expected);
    return { given, sent: sent.find(p => p.includes('lastLogin')) };
  }
  // The default (de)serializers: the SDK writes a DateTimeOffset in UTC
  // (value.utc() ... + 'Z'), so the offset never reaches the URL (and the
  // caller's moment is switched to UTC in place).
  const byDefault = await offsetFilter(usersApi);
  assert.ok(/lastLogin%20ge%20\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\dZ/.test(byDefault.sent), byDefault.sent);
  console.log(`SAP Cloud SDK sent (lastLogin ge ${local().format()}, default serializer): ${byDefault.sent}` +
    ` (the moment passed in now reads ${byDefault.given.format()})`);
  // Custom (de)serializers that keep the offset (the SDK's documented
  // extension point): the + goes out as %2B (encodeURIComponent).
  const keepOffset = identity({
    'Edm.DateTimeOffset': {
      deserialize: value => moment.parseZone(value),
      serialize: value => value.format('YYYY-MM-DDTHH:mm:ssZ'),
      serializeToUri: (value, serialize) => serialize(value)
    }
  }).usersApi;
  const kept = await offsetFilter(keepOffset);
  assert.ok(kept.sent.includes('%2B01%3A00'), kept.sent);
  console.log(`SAP Cloud SDK sent (lastLogin ge ${local().format()}, offset-keeping serializer): ${kept.sent}`);

  // CRUD with the generated client: create, update with the entity's ETag
  // (If-Match from @odata.etag), the stale ETag again (412), delete.
  const created = await usersApi.requestBuilder()
    .create(usersApi.entityBuilder().userKey('sdk.crud').name('SDK Crud').isTechnician(false).build())
    .skipCsrfTokenFetching()
    .execute(dest);
  assert.strictEqual(created.userKey, 'sdk.crud');
  const fetched = await usersApi.requestBuilder().getByKey(created.id).execute(dest);
  assert.strictEqual(fetched.versionIdentifier, '"1"', 'the ETag of the new user');
  const stale = await usersApi.requestBuilder().getByKey(created.id).execute(dest);
  fetched.name = 'SDK Crud renamed';
  const updated = await usersApi.requestBuilder().update(fetched).skipCsrfTokenFetching().execute(dest);
  assert.strictEqual(updated.name, 'SDK Crud renamed');
  const renamed = JSON.parse(await plain(`Users(${created.id})?$select=name,version`));
  assert.strictEqual(renamed.name, 'SDK Crud renamed');
  assert.strictEqual(renamed.version, 2);
  stale.name = 'lost update';
  let status = 0;
  let failure = null;
  try {
    await usersApi.requestBuilder().update(stale).skipCsrfTokenFetching().execute(dest);
  } catch (e) {
    failure = e;
    for (let c = e; c && !status; c = c.cause) {
      status = (c.response && c.response.status) || c.status || 0;
    }
  }
  assert.strictEqual(status, 412, `the stale ETag is refused: ${failure && (failure.stack || failure)}`);
  assert.strictEqual(JSON.parse(await plain(`Users(${created.id})?$select=name`)).name, 'SDK Crud renamed');
  const current = await usersApi.requestBuilder().getByKey(created.id).execute(dest);
  await usersApi.requestBuilder().delete(current).skipCsrfTokenFetching().execute(dest);
  const gone = await fetch(`${url}/Users(${created.id})`, { headers: { Authorization: basic } });
  assert.strictEqual(gone.status, 404);
  console.log('SAP Cloud SDK typed client: create, update with its ETag, 412 on the stale ETag, delete');

  console.log(`SAP Cloud SDK typed client: filter/orderby/select/expand/top, count (${count}), getByKey, ` +
    `a lastLogin filter with a +01:00 offset (${expected.length} users) agree with the feed`);
})().catch(e => {
  console.error(e.stack || e);
  if (e.cause && e.cause.response) console.error(JSON.stringify(e.cause.response.data));
  process.exit(1);
});
