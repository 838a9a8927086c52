// Opening and closing name scopes: which scopes are open, and the redraws that keep the box the user acted on in
// place on screen and give it keyboard focus.
import type { Box } from '../layout';
import type { SubgraphId } from '../types';
import type { GraphModel, Visible } from './model';
import type { Point, Viewport } from './viewport';

/** Close a scope and every scope inside it. */
export function closeScope(expanded: Set<string>, sid: string): void {
  for (const e of [...expanded]) if (e === sid || e.startsWith(`${sid}/`)) expanded.delete(e);
}

/** Open a scope and the scopes around it; true when one was closed. */
export function openChain(model: GraphModel, expanded: Set<string>, scopeId: string | null): boolean {
  let changed = false;
  for (const sid of model.chain(scopeId)) {
    if (!expanded.has(sid)) {
      expanded.add(sid);
      changed = true;
    }
  }
  return changed;
}

/** Open every scope of a subgraph that shows a node. */
export function openAll(model: GraphModel, expanded: Set<string>, subgraph: SubgraphId): void {
  for (const s of model.scopes.values()) if (s.subgraph === subgraph && s.visible) expanded.add(s.id);
}

/** What a scope change needs of the graph view. */
export interface ScopeHost {
  readonly expanded: Set<string>;
  readonly viewport: Viewport;
  readonly vis: Visible | null;
  focusedUnit: string | null;
  unitBox(unitId: string): Box | undefined;
  hasFocus(): boolean;
  relayout(): Promise<boolean>; // false when a newer layout was asked for meanwhile
  focusUnitEl(unitId: string, force?: boolean): void;
}

/** The first unit (top, then left) drawn inside a scope. */
function firstUnitIn(host: ScopeHost, sid: string): string | null {
  let best: [string, Box] | null = null;
  for (const u of host.vis?.units.values() ?? []) {
    const sc = u.node ? u.node.scope : u.scope.id;
    const b = host.unitBox(u.id);
    if (!b || !(sc === sid || sc?.startsWith(`${sid}/`))) continue;
    if (!best || b.y < best[1].y || (b.y === best[1].y && b.x < best[1].x)) best = [u.id, b];
  }
  return best ? best[0] : null;
}

/** Redraw, then move focus to `target` (a unit id, or a function of the new drawing) and keep it at `screen`. */
async function redrawAndFocus(host: ScopeHost, target: () => string | null, screen: Point | null): Promise<void> {
  const hadFocus = host.hasFocus();
  if (!await host.relayout()) return;
  const unit = target();
  if (!unit) return;
  host.focusedUnit = unit;
  const box = host.unitBox(unit);
  if (screen && box) host.viewport.keepAt(box, screen);
  host.focusUnitEl(unit, hadFocus);
}

/**
 * Open a closed scope (focus goes to its first box) or close an open one (focus goes to its box). `anchor` is the
 * drawing point clicked: the box that replaces it stays where it was on screen.
 */
export async function toggleScope(host: ScopeHost, sid: string, anchor?: Point): Promise<void> {
  const wasOpen = host.expanded.has(sid);
  if (wasOpen) closeScope(host.expanded, sid);
  else host.expanded.add(sid);
  const screen = anchor ? host.viewport.toScreen(anchor) : null;
  await redrawAndFocus(host, () => (wasOpen ? `scope:${sid}` : firstUnitIn(host, sid)), screen);
}

/** Escape: close the open scope drawn around a unit, keeping its box where the unit was; false at the top. */
export function closeScopeAround(host: ScopeHost, unitId: string): boolean {
  const u = host.vis?.units.get(unitId);
  const box = host.unitBox(unitId);
  if (!u?.parent || !box) return false;
  const parent = u.parent;
  closeScope(host.expanded, parent);
  void redrawAndFocus(host, () => `scope:${parent}`, host.viewport.toScreen(box));
  return true;
}
