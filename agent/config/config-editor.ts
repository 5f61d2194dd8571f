import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isSeq, parseDocument, type Document, YAMLMap, YAMLSeq } from 'yaml';
import { parseConfig, type LoadedConfig } from './config-loader';
import { ConfigError } from './errors';

/**
 * Changes a config file the way a careful person would: comments, order and formatting of everything else kept,
 * the result validated against the schema before it replaces the file (atomically, same mode), so a pairing can
 * never leave a config the agent refuses to start with.
 */
export function editConfigFile(file: string, edit: (doc: Document) => void, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const text = fs.readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new ConfigError([{ path: file, message: `not valid YAML: ${doc.errors[0].message}` }]);
  edit(doc);
  // lineWidth 0: one-line flow maps (`- { id: …, transport: … }`) stay on one line, as people write them.
  const next = doc.toString({ lineWidth: 0 });
  const loaded = parseConfig(next, { sourceName: path.basename(file), baseDir: path.dirname(path.resolve(file)), env });
  const tmp = `${file}.edit-${process.pid}`;
  const st = fs.statSync(file);
  fs.writeFileSync(tmp, next, { mode: st.mode & 0o777 });
  // An installed config is root:edge-agent 0640: the edited file keeps its owner, group and mode.
  if (process.getuid?.() === 0) fs.chownSync(tmp, st.uid, st.gid);
  fs.renameSync(tmp, file);
  return loaded;
}

function devicesSeq(doc: Document): YAMLSeq {
  const node = doc.get('devices', true);
  if (isSeq(node)) return node;
  const seq = new YAMLSeq();
  doc.set('devices', seq);
  return seq;
}

function idOf(item: unknown): unknown {
  return isMap(item) ? item.get('id') : undefined;
}

/** Appends a device in the file's usual one-line style (`- { id: …, transport: … }`). */
export function addDevice(doc: Document, device: Record<string, unknown>): void {
  const seq = devicesSeq(doc);
  if (seq.items.some((i) => idOf(i) === device.id)) throw new ConfigError([{ path: 'devices', message: `a device with id "${String(device.id)}" is already configured` }]);
  const node = doc.createNode(device) as YAMLMap;
  node.flow = true;
  seq.items.push(node);
}

/**
 * Removes a device and every mention of it that would otherwise dangle: its consent grants in the file and its
 * id in campaigns' `qualify.devices` lists. Returns what else was changed, for the technician to read.
 */
export function removeDevice(doc: Document, id: string): string[] {
  const changed: string[] = [];
  const seq = devicesSeq(doc);
  const at = seq.items.findIndex((i) => idOf(i) === id);
  if (at < 0) throw new ConfigError([{ path: 'devices', message: `no device with id "${id}" in the config` }]);
  seq.items.splice(at, 1);
  const grants = doc.getIn(['consent', 'grants'], true);
  if (isSeq(grants)) {
    const before = grants.items.length;
    grants.items = grants.items.filter((g) => !(isMap(g) && g.get('device') === id));
    if (grants.items.length < before) changed.push(`consent.grants: ${before - grants.items.length} grant(s) for ${id} removed`);
  }
  const campaigns = doc.get('campaigns', true);
  if (isSeq(campaigns)) {
    for (const c of campaigns.items) {
      const list = isMap(c) ? c.getIn(['qualify', 'devices'], true) : undefined;
      if (!isSeq(list)) continue;
      const before = list.items.length;
      list.items = list.items.filter((d) => (d as { value?: unknown }).value !== id && d !== id);
      if (list.items.length < before) changed.push(`campaigns ${String((c as YAMLMap).get('id'))}: ${id} no longer qualifies`);
    }
  }
  return changed;
}
