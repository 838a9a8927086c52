// Pan and zoom: the transform of the drawing in its SVG, by mouse (drag, scroll, Ctrl+scroll, pinch) and by the
// calls the keyboard and the views make (zoom, fit, centre, open at a readable scale).

/** A point or a box in drawing coordinates (a box by its centre). */
export interface Point {
  x: number;
  y: number;
}

export interface Rect extends Point {
  width: number;
  height: number;
}

/** The smallest scale at which node labels read well: `.unit text` is 11px (style.css), so 10.1px on screen. */
export const READABLE_SCALE = 0.92;
/** A drawing that fits whole at this scale or above (labels 8px and up) opens fitted: seeing all of a small graph
 * beats reading it at full size. Below it, the drawing opens at READABLE_SCALE on its focus. */
const WHOLE_FIT_SCALE = 0.72;
const MIN_SCALE = 0.03; // zooming out stops here, or at the scale that fits the drawing when that is smaller
const MAX_SCALE = 4;
const MAX_FIT_SCALE = 1.2; // a small drawing is not blown up past this
const MARGIN = 8;

export class Viewport {
  private readonly svg: SVGSVGElement;
  private readonly group: SVGGElement;
  private x = 0;
  private y = 0;
  private k = 1;
  bounds = { width: 100, height: 100 }; // the drawing's size

  constructor(svg: SVGSVGElement, group: SVGGElement) {
    this.svg = svg;
    this.group = group;
    this.bindWheel();
    this.bindDrag();
  }

  get scale(): number {
    return this.k;
  }

  private apply(): void {
    this.group.setAttribute('transform',
      `translate(${this.x.toFixed(1)},${this.y.toFixed(1)}) scale(${this.k.toFixed(4)})`);
  }

  /** The pane's size in CSS px. */
  size(): { w: number; h: number } {
    const r = this.svg.getBoundingClientRect();
    return { w: r.width || 800, h: r.height || 600 };
  }

  /** The scale that fits the whole drawing in the pane (at most MAX_FIT_SCALE). */
  fitScale(): number {
    const { w, h } = this.size();
    return Math.min(MAX_FIT_SCALE, Math.min(w / this.bounds.width, h / this.bounds.height) * 0.95);
  }

  /** Fit the whole drawing in the pane, centred, however small that makes it (the "0" key, the Fit button). */
  fit(): void {
    const { w, h } = this.size();
    const k = Math.max(1e-4, this.fitScale());
    this.k = k;
    this.x = (w - this.bounds.width * k) / 2;
    this.y = (h - this.bounds.height * k) / 2;
    this.apply();
  }

  /**
   * Show the drawing as it opens: fitted whole when that keeps its labels legible, else at READABLE_SCALE with
   * `focus` (a box in drawing coordinates) as near the middle of the pane as the drawing's edges allow.
   */
  open(focus: Rect | null): void {
    if (this.fitScale() >= WHOLE_FIT_SCALE || !focus) {
      this.fit();
      return;
    }
    const { w, h } = this.size();
    const k = READABLE_SCALE;
    this.k = k;
    this.x = clampAxis(w / 2 - focus.x * k, this.bounds.width * k, w);
    this.y = clampAxis(h / 2 - focus.y * k, this.bounds.height * k, h);
    this.apply();
  }

  zoom(factor: number, cx?: number, cy?: number): void {
    const { w, h } = this.size();
    const px = cx ?? w / 2;
    const py = cy ?? h / 2;
    const k = Math.min(MAX_SCALE, Math.max(Math.min(MIN_SCALE, this.fitScale()), this.k * factor));
    this.x = px - ((px - this.x) * k) / this.k;
    this.y = py - ((py - this.y) * k) / this.k;
    this.k = k;
    this.apply();
  }

  pan(dx: number, dy: number): void {
    this.x += dx;
    this.y += dy;
    this.apply();
  }

  toScreen(p: Point): Point {
    return { x: p.x * this.k + this.x, y: p.y * this.k + this.y };
  }

  /** Put a drawing point at a pane position (to keep a box in place while the drawing changes around it). */
  keepAt(p: Point, screen: Point): void {
    this.x = screen.x - p.x * this.k;
    this.y = screen.y - p.y * this.k;
    this.apply();
  }

  /** Centre a drawing point, zooming in first when the drawing is shown too small to read. */
  centerOn(p: Point): void {
    const { w, h } = this.size();
    if (this.k < 0.6) this.k = READABLE_SCALE;
    this.x = w / 2 - p.x * this.k;
    this.y = h / 2 - p.y * this.k;
    this.apply();
  }

  /** Whether a drawing point shows in the pane, `margin` px in from its edges. */
  shows(p: Point, margin = 0): boolean {
    const s = this.toScreen(p);
    const { w, h } = this.size();
    return s.x >= margin && s.y >= margin && s.x <= w - margin && s.y <= h - margin;
  }

  // Scroll pans, Ctrl+scroll (and a trackpad pinch) zooms around the pointer.
  private bindWheel(): void {
    this.svg.addEventListener('wheel', (e) => {
      e.preventDefault();
      if (e.ctrlKey || e.metaKey) {
        const r = this.svg.getBoundingClientRect();
        this.zoom(Math.exp(-e.deltaY * 0.004), e.clientX - r.left, e.clientY - r.top);
      } else {
        this.pan(-(e.shiftKey ? e.deltaY : e.deltaX), e.shiftKey ? 0 : -e.deltaY);
      }
    }, { passive: false });
  }

  // Dragging the background pans; a drag that starts on a box or a scope header is a click on it instead.
  private bindDrag(): void {
    let drag: { x: number; y: number; vx: number; vy: number } | null = null;
    this.svg.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || (e.target instanceof Element && e.target.closest('.unit, .cluster-head'))) return;
      drag = { x: e.clientX, y: e.clientY, vx: this.x, vy: this.y };
      this.svg.setPointerCapture(e.pointerId);
      this.svg.classList.add('dragging');
    });
    this.svg.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.x = drag.vx + e.clientX - drag.x;
      this.y = drag.vy + e.clientY - drag.y;
      this.apply();
    });
    const end = (): void => { drag = null; this.svg.classList.remove('dragging'); };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', end);
  }
}

/**
 * The offset along one axis that puts the wanted point in the middle, unless that would leave the drawing's edge
 * inside the pane while the drawing is larger than the pane; a drawing smaller than the pane is centred.
 */
function clampAxis(wanted: number, drawn: number, pane: number): number {
  if (drawn + 2 * MARGIN <= pane) return (pane - drawn) / 2;
  return Math.min(MARGIN, Math.max(pane - drawn - MARGIN, wanted));
}
