// Queries the feed with the typed client that the SAP Cloud SDK generator
// made from its $metadata (unpatched), and compares the results with what
// the feed answers to plain HTTP requests. Both authenticate with HTTP Basic
// (the client id and secret in FEED_CLIENT_ID / FEED_CLIENT_SECRET).
// Usage: node sap_query.js GENERATED_CLIENT_DIR FEED_ROOT_URL
const path = require('path');
const assert = require('assert');
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

  console.log(`SAP Cloud SDK typed client: filter/orderby/select/expand/top, count (${count}), getByKey agree with the feed`);
})().catch(e => {
  console.error(e.stack || e);
  if (e.cause && e.cause.response) console.error(JSON.stringify(e.cause.response.data));
  process.exit(1);
});
