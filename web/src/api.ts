// The graphlint service's REST API (/v1). Errors are problem+json documents, raised as ApiError.
import type {
  GraphJson, Job, Problem, Report, ReportList, RuleDoc, RuleMeta, TargetInfo,
} from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;

  constructor(status: number, title: string, detail: string) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

/** The HTTP status of an ApiError (0 for anything else). */
export function statusOf(err: unknown): number {
  return err instanceof ApiError ? err.status : 0;
}

// A service started with --token-file wants `Authorization: Bearer TOKEN`; the token is kept for this tab only.
const TOKEN_KEY = 'graphlint-token';

export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(): Record<string, string> {
  const out: Record<string, string> = { Accept: 'application/json' };
  if (getToken()) out.Authorization = `Bearer ${getToken()}`;
  return out;
}

function problemOf(body: unknown, res: Response): ApiError {
  if (body && typeof body === 'object') {
    const p = body as Problem;
    const detail = typeof p.detail === 'string' ? p.detail
      : p.detail === undefined || p.detail === null ? '' : JSON.stringify(p.detail);
    return new ApiError(res.status, p.title ?? '', detail);
  }
  const text = typeof body === 'string' ? body : body === null ? '' : JSON.stringify(body);
  return new ApiError(res.status, res.statusText, text.slice(0, 300));
}

/** One call; resolves to the JSON body, which the caller types (it is the service's documented shape). */
async function request<T>(path: string, options: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: headers(), ...options });
  } catch (err) {
    throw new ApiError(0, 'The graphlint service cannot be reached', err instanceof Error ? err.message : String(err));
  }
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) throw problemOf(body, res);
  return body as T;
}

export interface UploadFields {
  targets?: string[];
  inputs?: string[];
  outputs?: string[];
  verify?: boolean;
}

/** Upload a model. Resolves to the report (with `id`). */
export function uploadModel(file: File, fields: UploadFields = {}): Promise<Report> {
  const form = new FormData();
  form.append('file', file, file.name);
  for (const t of fields.targets ?? []) form.append('target', t);
  for (const i of fields.inputs ?? []) form.append('input', i);
  for (const o of fields.outputs ?? []) form.append('output', o);
  if (fields.verify) form.append('verify', 'true');
  return request<Report>('v1/reports', { method: 'POST', body: form });
}

export const getReport = (id: string): Promise<Report> => request<Report>(`v1/reports/${encodeURIComponent(id)}`);
export const getGraph = (id: string): Promise<GraphJson> =>
  request<GraphJson>(`v1/reports/${encodeURIComponent(id)}/graph`);
export const getSarif = (id: string): Promise<unknown> => request<unknown>(`v1/reports/${encodeURIComponent(id)}/sarif`);
export const listRules = (): Promise<RuleMeta[]> => request<RuleMeta[]>('v1/rules');
export const listTargets = (): Promise<TargetInfo[]> => request<TargetInfo[]>('v1/targets');
export const getRule = (code: string): Promise<RuleDoc> => request<RuleDoc>(`v1/rules/${encodeURIComponent(code)}`);

export function listReports({ limit = 25, cursor, name }: { limit?: number; cursor?: string | null;
  name?: string } = {}): Promise<ReportList> {
  const q = new URLSearchParams({ limit: String(limit) });
  if (cursor) q.set('cursor', cursor);
  if (name) q.set('name', name);
  return request<ReportList>(`v1/reports?${q.toString()}`);
}

export interface JobRequest {
  reportId: string;
  target: string;
  fix?: boolean;
  unsafeFixes?: boolean;
  outputs?: string[];
}

export function startJob({ reportId, target, fix = true, unsafeFixes = false, outputs = [] }: JobRequest):
  Promise<Job> {
  const form = new FormData();
  form.append('report_id', reportId);
  for (const o of outputs) form.append('output', o);
  form.append('target', target);
  form.append('fix', String(fix));
  form.append('unsafe_fixes', String(unsafeFixes));
  return request<Job>('v1/jobs', { method: 'POST', body: form });
}

export const getJob = (id: string): Promise<Job> => request<Job>(`v1/jobs/${encodeURIComponent(id)}`);
export const jobFileUrl = (id: string, name: string): string =>
  `v1/jobs/${encodeURIComponent(id)}/files/${encodeURIComponent(name)}`;

/** A job's file as a Blob (with the token, which a plain link cannot send). */
export async function getJobFile(id: string, name: string): Promise<Blob> {
  const res = await fetch(jobFileUrl(id, name), { headers: { Authorization: `Bearer ${getToken()}` } });
  if (!res.ok) throw new ApiError(res.status, res.statusText, `cannot download ${name}`);
  return res.blob();
}
