// Reads an environment file Keyport wrote with the tool's own parser and prints what the
// tool sees: {"name", "variables": {key: value}, "secret": [keys]}. Exit 1 when the tool's
// parser refuses it. Usage: node check.js postman|insomnia|bruno FILE
'use strict';
const fs = require('fs');

const [tool, file] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
const fail = (why) => {
  console.error(`check.js: ${tool} refused ${file}: ${why}`);
  process.exit(1);
};

function postman() {
  const { VariableScope } = require('postman-collection');
  const doc = JSON.parse(text);
  if (doc._postman_variable_scope !== 'environment') fail('not an environment');
  if (!VariableScope.isVariableScope(new VariableScope(doc))) fail('not a variable scope');
  const scope = new VariableScope(doc);
  if (scope.id !== doc.id || !doc.id) fail('no id');
  const variables = {};
  const secret = [];
  scope.values.each((v) => {
    if (v.disabled) return;
    variables[v.key] = v.get();
  });
  for (const v of doc.values) {
    if (!['default', 'secret'].includes(v.type)) fail(`variable ${v.key} has type ${v.type}`);
    if (v.type === 'secret') secret.push(v.key);
  }
  // Insomnia's own importer of Postman environments reads it too.
  const { importers } = require('insomnia-importers');
  const env = importers.find((i) => i.id === 'postman-environment').convert(text);
  if (!env || env[0]._type !== 'environment') fail("Insomnia's Postman-environment importer refused it");
  return { name: scope.name, variables, secret };
}

async function insomnia() {
  const { convert } = require('insomnia-importers');
  const result = await convert(text);
  if (!result || result.type.id !== 'insomnia-4') fail(`read as ${result && result.type.id}`);
  const envs = result.data.resources.filter((r) => r._type === 'environment');
  if (envs.length !== 1) fail(`${envs.length} environments`);
  const e = envs[0];
  return { name: e.name, variables: e.data, secret: e.isPrivate ? Object.keys(e.data) : [] };
}

function bruno() {
  const { bruToEnvJsonV2 } = require('@usebruno/lang');
  const env = bruToEnvJsonV2(text);
  if (!env || !Array.isArray(env.variables)) fail('no variables');
  const variables = {};
  const secret = [];
  for (const v of env.variables) {
    if (!v.enabled) continue;
    variables[v.name] = v.value;
    if (v.secret) secret.push(v.name);
  }
  return { name: null, variables, secret };
}

(async () => {
  const read = { postman, insomnia, bruno }[tool];
  if (!read) fail('unknown tool');
  try {
    console.log(JSON.stringify(await read()));
  } catch (e) {
    fail(e.message);
  }
})();
