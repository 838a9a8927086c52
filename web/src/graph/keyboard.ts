// Keyboard use of the graph: arrows move focus between boxes (Shift+arrows pan), Enter or Space opens the focused
// box, Escape closes the scope around it, + and - zoom, 0 fits the graph.
import type { Box } from '../layout';
import type { Viewport } from './viewport';

/** What the keyboard needs of the graph view. */
export interface KeyboardHost {
  readonly viewport: Viewport;
  focusedUnit: string | null;
  unitIds(): string[];
  unitBox(unitId: string): Box | undefined;
  activate(unitId: string): void; // select a node, open a collapsed scope
  closeScopeAround(unitId: string): boolean; // false when the unit is at the top level
  focusUnitEl(unitId: string, force?: boolean): void;
}

const PAN_STEP = 60;
const MOVES: Record<string, [number, number]> = {
  ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0],
};

/** Handle one key; true when it was the graph's (then the browser's default is prevented). */
function onKey(host: KeyboardHost, e: KeyboardEvent): boolean {
  const move = MOVES[e.key];
  if (move && e.shiftKey) {
    host.viewport.pan(-move[0] * PAN_STEP, -move[1] * PAN_STEP);
  } else if (move) {
    moveFocus(host, move[0], move[1]);
  } else if (e.key === 'Enter' || e.key === ' ') {
    if (!host.focusedUnit) return false;
    host.activate(host.focusedUnit);
  } else if (e.key === 'Escape') {
    return host.focusedUnit ? host.closeScopeAround(host.focusedUnit) : false;
  } else if (e.key === '+' || e.key === '=') {
    host.viewport.zoom(1.25);
  } else if (e.key === '-' || e.key === '_') {
    host.viewport.zoom(0.8);
  } else if (e.key === '0') {
    host.viewport.fit();
  } else {
    return false;
  }
  return true;
}

export function bindKeyboard(svg: SVGSVGElement, host: KeyboardHost): void {
  svg.addEventListener('keydown', (e) => {
    if (onKey(host, e)) e.preventDefault();
  });
}

/** The unit nearest in a direction from `from`: far along it, little across it. */
function nearest(host: KeyboardHost, from: Box, dx: number, dy: number): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const id of host.unitIds()) {
    const p = host.unitBox(id);
    if (id === host.focusedUnit || !p) continue;
    const ax = p.x - from.x;
    const ay = p.y - from.y;
    const along = ax * dx + ay * dy;
    if (along <= 1) continue;
    const across = Math.abs(ax * dy) + Math.abs(ay * dx);
    const score = along + across * 2.5;
    if (score < bestScore) {
      bestScore = score;
      best = id;
    }
  }
  return best;
}

/** The top-left unit: where focus starts when no unit has it. */
export function firstUnit(host: Pick<KeyboardHost, 'unitIds' | 'unitBox'>, ids = host.unitIds()): string | null {
  let best: string | null = null;
  let bestBox: Box | undefined;
  for (const id of ids) {
    const b = host.unitBox(id);
    if (b && (!bestBox || b.y < bestBox.y || (b.y === bestBox.y && b.x < bestBox.x))) {
      best = id;
      bestBox = b;
    }
  }
  return best;
}

/** Move keyboard focus to the nearest unit in a direction (or the first one when none has focus). */
function moveFocus(host: KeyboardHost, dx: number, dy: number): void {
  const cur = host.focusedUnit ? host.unitBox(host.focusedUnit) : undefined;
  const best = cur ? nearest(host, cur, dx, dy) : firstUnit(host);
  const box = best ? host.unitBox(best) : undefined;
  if (!best || !box) return;
  host.focusedUnit = best;
  host.focusUnitEl(best);
  if (!host.viewport.shows(box, 40)) host.viewport.centerOn(box);
}
