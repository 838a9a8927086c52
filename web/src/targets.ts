// The conversion targets a model can be checked for: the service's target registry (GET /v1/targets), so the
// page offers exactly the targets, descriptions and defaults the server checks.
import { listTargets } from './api';

export const loadTargets = listTargets;
