import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import mqtt from 'mqtt';
import { createBluetooth } from 'node-ble';
import { bluezErrorName, onBusError } from '../../drivers/ble/bluez-access';
import type { StatusDocument } from '../api/status';
import { describeMqttError, mqttConnectOptions, redactedUrl, UpstreamConfigError } from '../sync/mqtt-connect-options';
import { result, type Check, type CheckResult } from './check';

const SERVICE_USER = 'edge-agent';

/** Groups of the service user, or null when it does not exist (a plain checkout run by a person). */
function serviceUserGroups(): string[] | null {
  const r = spawnSync('id', ['-Gn', SERVICE_USER], { encoding: 'utf8', timeout: 2000 });
  return r.status === 0 ? r.stdout.trim().split(/\s+/) : null;
}

function groupName(gid: number): string {
  const r = spawnSync('getent', ['group', String(gid)], { encoding: 'utf8', timeout: 2000 });
  return r.status === 0 ? r.stdout.split(':')[0] : String(gid);
}

export const SERIAL_CHECK: Check = {
  id: 'serial',
  title: 'serial port',
  run(ctx) {
    const devices = ctx.config?.devices.flatMap((d) => (d.transport === 'serial' ? [d] : [])) ?? [];
    if (devices.length === 0) return result(this, 'skip', ctx.config ? 'no serial devices configured' : 'no valid config');
    const groups = serviceUserGroups();
    return devices.map((d): CheckResult => {
      const title = `serial ${d.id}`;
      const r = (status: CheckResult['status'], detail: string, fix?: string): CheckResult => ({ ...result(this, status, detail, fix), title });
      let st: fs.Stats;
      try {
        st = fs.statSync(d.port);
      } catch {
        return r('fail', `${d.port} is missing (unplugged, or another name after a replug)`, 'plug the device in; prefer its stable /dev/serial/by-id/… path (`edge-agent devices scan`)');
      }
      if (!st.isCharacterDevice()) return r('fail', `${d.port} is not a serial device`, 'point the device\'s port at a tty (`edge-agent devices scan` lists them)');
      try {
        fs.accessSync(d.port, fs.constants.R_OK | fs.constants.W_OK);
      } catch {
        return r('fail', `${d.port}: permission denied for this user (group ${groupName(st.gid)})`, `add the user to that group: \`sudo usermod -aG ${groupName(st.gid)} $USER\`, then log in again`);
      }
      const group = groupName(st.gid);
      if (groups !== null && st.uid !== 0 && !groups.includes(group)) {
        return r('fail', `${d.port} belongs to group ${group}, which the service user ${SERVICE_USER} is not in`, `\`sudo usermod -aG ${group} ${SERVICE_USER}\` and restart the service`);
      }
      if (groups !== null && !groups.includes(group) && (st.mode & 0o006) !== 0o006) {
        return r('fail', `${d.port} (group ${group}) is not accessible to the service user ${SERVICE_USER}`, `\`sudo usermod -aG ${group} ${SERVICE_USER}\` and restart the service`);
      }
      return r('pass', `${d.port} present and accessible (group ${group})`);
    });
  },
};

export const BLUETOOTH_CHECK: Check = {
  id: 'bluetooth',
  title: 'Bluetooth',
  async run(ctx) {
    const ble = ctx.config?.devices.filter((d) => d.transport === 'ble').length ?? 0;
    if (ble === 0) return result(this, 'skip', ctx.config ? 'no BLE devices configured' : 'no valid config');
    const { bluetooth, destroy } = createBluetooth();
    // dbus-next reports a missing system bus as an 'error' event; without a listener it would crash the process.
    const busError = new Promise<never>((_resolve, reject) => onBusError(bluetooth, reject));
    busError.catch(() => undefined);
    try {
      const adapters = await Promise.race([bluetooth.adapters(), busError]);
      if (adapters.length === 0) return result(this, 'fail', 'BlueZ runs but sees no Bluetooth adapter', 'check `rfkill list` (unblock with `sudo rfkill unblock bluetooth`) and `dmesg | grep -i blue`');
      const adapter = await Promise.race([bluetooth.getAdapter(adapters[0]), busError]);
      const powered = await Promise.race([adapter.isPowered(), busError]);
      if (!powered) return result(this, 'fail', `adapter ${adapters[0]} is powered off`, '`bluetoothctl power on` (and `sudo rfkill unblock bluetooth` if it is blocked)');
      return result(this, 'pass', `adapter ${adapters[0]} powered (${ble} BLE device${ble === 1 ? '' : 's'} configured)`);
    } catch (err) {
      const msg = bluezErrorName(err);
      if (/ENOENT|ECONNREFUSED/.test(msg)) return result(this, 'fail', `no D-Bus system bus (${msg})`, 'start D-Bus and BlueZ: `sudo systemctl start dbus bluetooth`');
      if (/ServiceUnknown|was not provided/.test(msg)) return result(this, 'fail', 'BlueZ (org.bluez) is not running', '`sudo apt install bluez && sudo systemctl enable --now bluetooth`');
      if (/AccessDenied|not allowed/i.test(msg)) return result(this, 'fail', `D-Bus refused access to BlueZ (${msg})`, `add the service user to the bluetooth group: \`sudo usermod -aG bluetooth ${SERVICE_USER}\``);
      return result(this, 'fail', `cannot talk to BlueZ: ${msg}`, 'check `systemctl status bluetooth`');
    } finally {
      try {
        destroy();
      } catch {
        // already gone
      }
    }
  },
};

const UPSTREAM_TIMEOUT_MS = 5000;

export const UPSTREAM_CHECK: Check = {
  id: 'upstream',
  title: 'upstream broker',
  async run(ctx) {
    const up = ctx.config?.upstream;
    if (!up) return result(this, 'skip', ctx.config ? 'no upstream configured (signals stay on the gateway)' : 'no valid config');
    let opts: mqtt.IClientOptions;
    try {
      // Its own client id: reusing the agent's would disconnect the running agent (MQTT session takeover).
      opts = { ...mqttConnectOptions(up, ctx.config!.gateway.id, undefined), clientId: `edge-agent-doctor-${process.pid}`, connectTimeout: UPSTREAM_TIMEOUT_MS };
    } catch (err) {
      if (err instanceof UpstreamConfigError) return result(this, 'fail', err.message, 'fix the file path or permissions in the config');
      throw err;
    }
    const url = redactedUrl(up.url);
    const outcome = await new Promise<{ ok: true; ms: number } | { ok: false; error: string }>((resolve) => {
      const started = Date.now();
      const client = mqtt.connect(up.url, opts);
      let done = false;
      const finish = (r: { ok: true; ms: number } | { ok: false; error: string }): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        // mqtt.js's own listeners stay: its 'close' handler clears the CONNACK timer that would hold the process.
        client.on('error', () => undefined);
        client.end(true);
        resolve(r);
      };
      const timer = setTimeout(() => finish({ ok: false, error: `no answer from ${url} within ${UPSTREAM_TIMEOUT_MS / 1000} s (firewall? wrong port?)` }), UPSTREAM_TIMEOUT_MS);
      client.once('connect', () => finish({ ok: true, ms: Date.now() - started }));
      client.on('error', (err) => finish({ ok: false, error: describeMqttError(err as Error & { code?: string | number }, up.url) }));
      client.once('close', () => setTimeout(() => finish({ ok: false, error: `${url} closed the connection (TLS expected? wrong port?)` }), 50));
    });
    if (!outcome.ok) return result(this, 'fail', outcome.error, 'the agent keeps collecting and queues signals meanwhile; fix the upstream settings and run `edge-agent sync --now`');
    const auth = up.accessToken !== undefined ? 'access token' : up.username !== undefined ? `user ${up.username}` : 'anonymous';
    const tls = up.url.startsWith('mqtts:') ? `TLS${up.cert ? ' + client certificate' : ''}` : 'no TLS';
    return result(this, up.url.startsWith('mqtts:') || isLoopback(up.url) ? 'pass' : 'warn', `${url} accepts the configured credentials (${auth}, ${tls}, ${outcome.ms} ms)`, up.url.startsWith('mqtts:') || isLoopback(up.url) ? undefined : 'signals cross the network unencrypted: use an mqtts:// URL');
  },
};

function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

export const AGENT_CHECK: Check = {
  id: 'agent',
  title: 'agent',
  async run(ctx) {
    if (!ctx.config) return result(this, 'skip', 'no valid config');
    const st: StatusDocument | null = await ctx.agentStatus();
    if (st === null) {
      return result(this, 'warn', `not running (nothing answers on ${ctx.config.api.listen})`, 'start it: `sudo systemctl start edge-agent`, or `edge-agent run --config …` by hand');
    }
    const down = st.devices.filter((d) => !d.connected);
    const failed = st.parts.filter((p) => p.state === 'failed');
    const detail = `running ${st.gateway.uptimeS} s, ${st.devices.length - down.length}/${st.devices.length} devices linked, outbox ${st.outbox.pending} pending, upstream ${st.upstream.connected ? 'connected' : 'not connected'}`;
    if (failed.length > 0) return result(this, 'fail', `${detail}; part ${failed[0].name} failed: ${failed[0].error ?? 'unknown error'}`, '`edge-agent status` and the log (`journalctl -u edge-agent -n 50`)');
    if (st.storage.full) return result(this, 'fail', `${detail}; storage full: frames refused`, 'restore the uplink or raise storage.maxBytes');
    if (down.length > 0) return result(this, 'warn', `${detail}; not linked: ${down.map((d) => `${d.id}${d.link ? ` (${d.link})` : ''}`).join(', ')}`, 'see the serial/Bluetooth lines above, and `edge-agent devices list`');
    return result(this, 'pass', detail);
  },
};
