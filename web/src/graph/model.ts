// The model graph without the DOM: name scopes, the constants folded away, the findings shown for one target, and
// which units (nodes and collapsed scopes) are visible for a set of open scopes.
import { severityFor } from '../findings';
import { rankOf } from '../nodedata';
import type {
  Finding, GraphEdge, GraphJson, GraphNode, GraphScope, GraphTensor, Severity, SubgraphId, TensorClass,
} from '../types';

export const AUTO_BUDGET = 160; // units drawn when a graph opens: scopes are expanded while under this
const NEARLY_EMPTY = 8; // ...or, while fewer than this many units show, up to HARD_CAP (one wide scope at the top)
const HARD_CAP = 450;
export const EXPAND_ALL_LIMIT = 2500; // above this many nodes, "expand all" would not stay usable

/** A scope with what the viewer adds: its child scopes, its member nodes, and how many nodes below it show. */
export interface ViewScope extends GraphScope {
  childScopes: string[];
  members: string[];
  visible: number;
}

/** A box to draw: one node, or a collapsed scope standing for everything in it. */
export type Unit = { id: string; node: GraphNode; scope?: undefined; parent: string | null }
  | { id: string; scope: ViewScope; node?: undefined; parent: string | null };

/** The edges between two units, aggregated. */
export interface UnitEdge {
  id: string;
  src: string;
  dst: string;
  count: number;
  classes: Set<TensorClass>;
  control: boolean;
  tensor?: string;
}

/** What one subgraph shows for a set of open scopes. */
export interface Visible {
  units: Map<string, Unit>;
  clusters: Map<string, ViewScope>; // open scopes drawn as boxes, by id
  clusterParent: Map<string, string | null>; // the open scope drawn around each cluster
  edges: Map<string, UnitEdge>;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export class GraphModel {
  readonly graph: GraphJson;
  readonly findings: Finding[];
  readonly nodes: Map<string, GraphNode>;
  readonly tensors: Record<string, GraphTensor>;
  readonly scopes: Map<string, ViewScope>;
  readonly inEdges = new Map<string, GraphEdge[]>();
  readonly outEdges = new Map<string, GraphEdge[]>();
  readonly pinned = new Set<string>(); // constants shown because they were asked for (search, inspector links)
  showConstants: boolean;
  hidden = new Set<string>();
  target = '';
  private readonly shown = new Map<string, number[]>(); // node id -> its findings for `target`
  private readonly nodeWorst = new Map<string, Severity | null>(); // node id -> worst of those
  private readonly scopeWorst = new Map<string, Severity | null>(); // scope id -> worst below it

  constructor(graph: GraphJson, findings: Finding[] = [], { showConstants = false } = {}) {
    this.graph = graph;
    this.findings = findings;
    this.nodes = new Map(graph.nodes.map((n) => [n.id, n]));
    this.tensors = graph.tensors;
    this.scopes = new Map(graph.scopes.map((s) => [s.id, { ...s, childScopes: [], members: [], visible: 0 }]));
    this.showConstants = showConstants;
    for (const e of graph.edges) {
      push(this.outEdges, e.src, e);
      push(this.inEdges, e.dst, e);
    }
    for (const s of this.scopes.values()) if (s.parent) this.scope(s.parent).childScopes.push(s.id);
    for (const n of graph.nodes) if (n.scope) this.scope(n.scope).members.push(n.id);
    for (const s of graph.scopes) this.scopeWorst.set(s.id, s.severity);
    for (const n of graph.nodes) {
      this.shown.set(n.id, n.findings);
      this.nodeWorst.set(n.id, n.severity);
    }
    this.refreshHidden();
  }

  scope(id: string): ViewScope {
    const s = this.scopes.get(id);
    if (!s) throw new Error(`no scope ${id}`);
    return s;
  }

  /** The findings of a node that concern the target shown (all of them for ''). */
  shownFindings(nodeId: string): number[] {
    return this.shown.get(nodeId) ?? [];
  }

  /** The worst of those findings on a node. */
  severityOf(nodeId: string): Severity | null {
    return this.nodeWorst.get(nodeId) ?? null;
  }

  /** The worst of those findings below a scope. */
  scopeSeverity(scopeId: string): Severity | null {
    return this.scopeWorst.get(scopeId) ?? null;
  }

  /**
   * Colour and count only the findings that affect `target` ('' = every target), as the findings list shows
   * them: each node takes its worst such finding, each scope the worst below it.
   */
  setTarget(target: string): void {
    this.target = target;
    const worse = (a: Severity | null, b: Severity | null): Severity | null => (rankOf(b) > rankOf(a) ? b : a);
    for (const s of this.scopes.values()) {
      this.scopeWorst.set(s.id, null);
      s.findings = 0;
    }
    for (const n of this.graph.nodes) {
      const sevs = n.findings.map((i) => [i, this.sevOf(i, target)] as const).filter(([, sev]) => sev);
      const shown = sevs.map(([i]) => i);
      const sev = sevs.reduce<Severity | null>((w, [, s]) => worse(w, s), null);
      this.shown.set(n.id, shown);
      this.nodeWorst.set(n.id, sev);
      if (!shown.length) continue;
      for (const sid of this.chain(n.scope)) {
        const s = this.scope(sid);
        s.findings += shown.length;
        this.scopeWorst.set(sid, worse(this.scopeSeverity(sid), sev));
      }
    }
  }

  private sevOf(index: number, target: string): Severity | null {
    const f = this.findings[index];
    return f ? severityFor(f, target) : null;
  }

  /** Constants without findings are folded into their consumers (the inspector lists them as inputs). */
  refreshHidden(): void {
    this.hidden = new Set();
    for (const n of this.graph.nodes) {
      if (n.kind === 'const' && !this.showConstants && !n.findings.length && !this.pinned.has(n.id)) {
        this.hidden.add(n.id);
      }
    }
    for (const s of this.scopes.values()) s.visible = 0;
    for (const n of this.graph.nodes) {
      if (this.hidden.has(n.id)) continue;
      for (const sid of this.chain(n.scope)) this.scope(sid).visible += 1;
    }
  }

  /** A scope and the scopes around it, outermost first. */
  chain(scopeId: string | null): string[] {
    const out: string[] = [];
    for (let sid = scopeId; sid; sid = this.scope(sid).parent) out.push(sid);
    return out.reverse();
  }

  /** The visible unit a node is drawn in: itself, or its outermost collapsed scope. */
  unitOf(nodeId: string, expanded: ReadonlySet<string>): string {
    const n = this.nodes.get(nodeId);
    if (!n?.scope) return nodeId;
    let top: string | null = null;
    for (const sid of this.chain(n.scope)) {
      if (!this.isOpen(sid, expanded)) {
        top = sid;
        break;
      }
    }
    return top ? `scope:${top}` : nodeId;
  }

  /** A scope with a single visible node is never drawn as a box: the node stands for it. */
  isOpen(sid: string, expanded: ReadonlySet<string>): boolean {
    return expanded.has(sid) || this.scope(sid).visible <= 1;
  }

  isCluster(sid: string, expanded: ReadonlySet<string>): boolean {
    return expanded.has(sid) && this.scope(sid).visible > 1;
  }

  /** The innermost scope drawn as a box around a unit (or null at the top). */
  clusterOf(scopeId: string | null, expanded: ReadonlySet<string>): string | null {
    for (let sid = scopeId; sid; sid = this.scope(sid).parent) if (this.isCluster(sid, expanded)) return sid;
    return null;
  }

  /** A node's label: its last name part, with the scope it stands for when that scope is not drawn. */
  labelOf(n: GraphNode, expanded: ReadonlySet<string>): string {
    if (n.scope && !this.isCluster(n.scope, expanded) && this.scope(n.scope).visible <= 1) {
      return `${this.scope(n.scope).name}/${n.label}`;
    }
    return n.label;
  }

  /** Units, clusters (expanded scopes) and aggregated edges to draw for one subgraph. */
  visible(subgraph: SubgraphId, expanded: ReadonlySet<string>): Visible {
    const units = new Map<string, Unit>();
    const unitOf = new Map<string, string>();
    for (const n of this.graph.nodes) {
      if (n.subgraph !== subgraph || this.hidden.has(n.id)) continue;
      const u = this.unitOf(n.id, expanded);
      unitOf.set(n.id, u);
      if (units.has(u)) continue;
      const scope = u.startsWith('scope:') ? this.scope(u.slice(6)) : null;
      units.set(u, scope ? { id: u, scope, parent: this.clusterOf(scope.parent, expanded) }
        : { id: u, node: n, parent: this.clusterOf(n.scope, expanded) });
    }
    const clusters = new Map<string, ViewScope>();
    for (const u of units.values()) {
      for (let sid = u.parent; sid && !clusters.has(sid); sid = this.scope(sid).parent) {
        if (this.isCluster(sid, expanded)) clusters.set(sid, this.scope(sid));
      }
    }
    const clusterParent = new Map([...clusters.values()].map((c) => [c.id, this.clusterOf(c.parent, expanded)]));
    return { units, clusters, clusterParent, edges: this.unitEdges(unitOf) };
  }

  private unitEdges(unitOf: Map<string, string>): Map<string, UnitEdge> {
    const edges = new Map<string, UnitEdge>();
    for (const e of this.graph.edges) {
      // Control dependencies are listed in the inspector, not drawn: a NoOp that waits on hundreds of nodes
      // would otherwise tie the whole layout together.
      if (e.control) continue;
      const a = unitOf.get(e.src);
      const b = unitOf.get(e.dst);
      if (!a || !b || a === b) continue;
      const key = `${a}\u0000${b}`;
      let agg = edges.get(key);
      if (!agg) edges.set(key, (agg = { id: key, src: a, dst: b, count: 0, classes: new Set(), control: true }));
      agg.count += 1;
      agg.control = false;
      const t = e.tensor === null ? undefined : this.tensors[e.tensor];
      agg.classes.add(t ? t.class : 'unknown');
      agg.tensor ??= e.tensor ?? undefined;
    }
    return edges;
  }

  /** Expand scopes breadth-first while the drawing stays under `budget` units. */
  autoExpand(subgraph: SubgraphId, budget = AUTO_BUDGET): Set<string> {
    const expanded = new Set<string>();
    let count = this.visible(subgraph, expanded).units.size;
    let frontier = [...this.scopes.values()].filter((s) => !s.parent && s.subgraph === subgraph && s.visible);
    while (frontier.length) {
      frontier.sort((a, b) => a.visible - b.visible || (a.path < b.path ? -1 : 1));
      const next: ViewScope[] = [];
      for (const s of frontier) {
        const grow = s.members.filter((m) => !this.hidden.has(m)).length
          + s.childScopes.filter((c) => this.scope(c).visible).length - 1;
        // a scope holding a single child scope costs nothing to open; a lone wide scope is opened anyway
        if (count + grow <= budget || grow <= 0 || (count < NEARLY_EMPTY && count + grow <= HARD_CAP)) {
          expanded.add(s.id);
          count += grow;
          next.push(...s.childScopes.map((c) => this.scope(c)).filter((c) => c.visible));
        }
      }
      frontier = next;
    }
    return expanded;
  }

  /**
   * The scopes open when a subgraph is first shown: autoExpand's, and the scopes around `focus` (a node) while the
   * drawing stays under HARD_CAP units.
   */
  openingScopes(subgraph: SubgraphId, focus: string | null): Set<string> {
    const expanded = this.autoExpand(subgraph);
    const n = focus === null ? undefined : this.nodes.get(focus);
    if (!n?.scope || n.subgraph !== subgraph) return expanded;
    const opened = new Set([...expanded, ...this.chain(n.scope)]);
    return this.visible(subgraph, opened).units.size <= HARD_CAP ? opened : expanded;
  }

  /** The node of the first finding that fails a target shown (an error), in a subgraph; null when none does. */
  firstFailing(subgraph: SubgraphId): string | null {
    for (const f of this.findings) {
      const n = f.node === null ? undefined : this.nodes.get(f.node);
      if (n?.subgraph === subgraph && severityFor(f, this.target) === 'error') return n.id;
    }
    return null;
  }

  outputClass(node: GraphNode): TensorClass {
    const t = this.tensors[node.outputs[0] ?? ''];
    return t ? t.class : 'unknown';
  }

  isQuantized(node: GraphNode): boolean {
    const t = this.tensors[node.outputs[0] ?? ''];
    return Boolean(t?.quant);
  }
}
