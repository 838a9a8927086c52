// The graphlint service's REST API (/v1). Errors are problem+json documents, raised as ApiError.

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

// A service started with --token-file wants `Authorization: Bearer TOKEN`; the token is kept for this tab only.
const TOKEN_KEY = 'graphlint-token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers() {
  const out = { Accept: 'application/json' };
  if (getToken()) out.Authorization = `Bearer ${getToken()}`;
  return out;
}

async function request(path, options = {}) {
  let res;
  try {
    res = await fetch(path, { headers: headers(), ...options });
  } catch (err) {
    throw new ApiError(0, 'The graphlint service cannot be reached', String(err.message || err));
  }
  const type = res.headers.get('content-type') || '';
  const body = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const title = body && typeof body === 'object' ? body.title : res.statusText;
    const detail = body && typeof body === 'object' ? (typeof body.detail === 'string' ? body.detail
      : JSON.stringify(body.detail ?? '')) : String(body || '').slice(0, 300);
    throw new ApiError(res.status, title, detail);
  }
  return body;
}

/** Upload a model: fields are {targets: [], inputs: [], outputs: [], verify: bool}. Resolves to the report (with `id`). */
export function uploadModel(file, fields = {}) {
  const form = new FormData();
  form.append('file', file, file.name);
  for (const t of fields.targets || []) form.append('target', t);
  for (const i of fields.inputs || []) form.append('input', i);
  for (const o of fields.outputs || []) form.append('output', o);
  if (fields.verify) form.append('verify', 'true');
  return request('v1/reports', { method: 'POST', body: form });
}

export const getReport = (id) => request(`v1/reports/${encodeURIComponent(id)}`);
export const getGraph = (id) => request(`v1/reports/${encodeURIComponent(id)}/graph`);
export const getSarif = (id) => request(`v1/reports/${encodeURIComponent(id)}/sarif`);
export const listRules = () => request('v1/rules');
export const listTargets = () => request('v1/targets');
export const getRule = (code) => request(`v1/rules/${encodeURIComponent(code)}`);

export function listReports({ limit = 25, cursor, name } = {}) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (cursor) q.set('cursor', cursor);
  if (name) q.set('name', name);
  return request(`v1/reports?${q}`);
}

export function startJob({ reportId, target, fix = true, unsafeFixes = false, outputs = [] }) {
  const form = new FormData();
  form.append('report_id', reportId);
  for (const o of outputs) form.append('output', o);
  form.append('target', target);
  form.append('fix', String(fix));
  form.append('unsafe_fixes', String(unsafeFixes));
  return request('v1/jobs', { method: 'POST', body: form });
}

export const getJob = (id) => request(`v1/jobs/${encodeURIComponent(id)}`);
export const jobFileUrl = (id, name) => `v1/jobs/${encodeURIComponent(id)}/files/${encodeURIComponent(name)}`;

/** A job's file as a Blob (with the token, which a plain link cannot send). */
export async function getJobFile(id, name) {
  const res = await fetch(jobFileUrl(id, name), { headers: { Authorization: `Bearer ${getToken()}` } });
  if (!res.ok) throw new ApiError(res.status, res.statusText, `cannot download ${name}`);
  return res.blob();
}
