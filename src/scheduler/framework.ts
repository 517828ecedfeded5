/**
 * One profile's plugins behind the extension points (upstream's framework/runtime): it runs them
 * in order, stops a Filter chain at the first rejection, sums weighted, normalized scores, and
 * knows which plugins care about which cluster events.
 */
import type { ExtensionPoint, ResolvedProfile } from './config.js';
import { ConfigurationError, DEFAULT_PLUGINS } from './config.js';
import type { NodeInfo, PodInfo } from './node-info.js';
import { IN_TREE_PLUGINS, type PluginContext } from './plugins/index.js';
import type { Snapshot } from './snapshot.js';
import { status, type ClusterEvent, type CycleState, type Plugin, type Pod, type PostFilterResult, type PreFilterResult, type QueuedPod, type Result, type Status } from './types.js';

interface Weighted {
  plugin: Plugin;
  weight: number;
}

/** Which methods make a plugin take part in each point. */
const POINT_METHODS: Record<ExtensionPoint, Array<keyof Plugin>> = {
  preEnqueue: ['preEnqueue'],
  queueSort: ['less'],
  preFilter: ['preFilter'],
  filter: ['filter'],
  postFilter: ['postFilter'],
  preScore: ['preScore'],
  score: ['score'],
  reserve: ['reserve', 'unreserve'],
  permit: [],
  preBind: ['preBind'],
  bind: ['bind'],
  postBind: [],
};

export class Framework {
  readonly schedulerName: string;
  readonly percentageOfNodesToScore?: number;
  private readonly preEnqueuePlugins: Plugin[];
  readonly queueSort: Plugin;
  private readonly preFilterPlugins: Plugin[];
  private readonly filterPlugins: Plugin[];
  private readonly postFilterPlugins: Plugin[];
  private readonly preScorePlugins: Plugin[];
  private readonly scorePlugins: Weighted[];
  private readonly reservePlugins: Plugin[];
  private readonly preBindPlugins: Plugin[];
  private readonly bindPlugins: Plugin[];
  readonly plugins = new Map<string, Plugin>();

  constructor(profile: ResolvedProfile, context: Omit<PluginContext, 'schedulerName'>) {
    this.schedulerName = profile.schedulerName;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore;
    const instance = (name: string): Plugin => {
      let plugin = this.plugins.get(name);
      if (!plugin) {
        const factory = IN_TREE_PLUGINS.get(name);
        if (!factory) throw new ConfigurationError(`profile "${profile.schedulerName}": plugin "${name}" does not exist`);
        plugin = factory(profile.args.get(name) ?? {}, { ...context, schedulerName: profile.schedulerName });
        this.plugins.set(name, plugin);
      }
      return plugin;
    };
    const at = (point: ExtensionPoint): Plugin[] => {
      const names = profile.enabled.get(point) ?? [];
      const result: Plugin[] = [];
      for (const name of names) {
        // Defaults not built in Nautilus are skipped; a plugin named explicitly must exist.
        if (!IN_TREE_PLUGINS.has(name) && DEFAULT_PLUGINS.some((ref) => ref.name === name)) continue;
        if (!IN_TREE_PLUGINS.has(name)) throw new ConfigurationError(`profile "${profile.schedulerName}": plugin "${name}" does not exist`);
        const plugin = instance(name);
        if (POINT_METHODS[point].some((method) => plugin[method] !== undefined)) result.push(plugin);
      }
      return result;
    };
    this.preEnqueuePlugins = at('preEnqueue');
    const sorts = at('queueSort');
    if (sorts.length !== 1) throw new ConfigurationError(`profile "${profile.schedulerName}": exactly one queueSort plugin must be enabled, got ${sorts.length}`);
    this.queueSort = sorts[0];
    this.preFilterPlugins = at('preFilter');
    this.filterPlugins = at('filter');
    this.postFilterPlugins = at('postFilter');
    this.preScorePlugins = at('preScore');
    this.scorePlugins = at('score').map((plugin) => ({ plugin, weight: profile.weights.get(plugin.name) || 1 }));
    this.reservePlugins = at('reserve');
    this.preBindPlugins = at('preBind');
    this.bindPlugins = at('bind');
    if (this.bindPlugins.length === 0) throw new ConfigurationError(`profile "${profile.schedulerName}": at least one bind plugin is needed`);
  }

  /** The plugins (of every point) registered for `event`. */
  pluginsForEvent(event: ClusterEvent): string[] {
    const [kind, action] = event.split('/');
    const names: string[] = [];
    for (const plugin of this.plugins.values()) {
      for (const registered of plugin.events ?? []) {
        const [rKind, rAction] = registered.split('/');
        if (rKind !== kind && rKind !== '*') continue;
        if (rAction === '*' || rAction === action || (rAction === 'Update' && action.startsWith('Update'))) {
          names.push(plugin.name);
          break;
        }
      }
    }
    return names;
  }

  less(a: QueuedPod, b: QueuedPod): boolean {
    return this.queueSort.less!(a, b);
  }

  runPreEnqueue(pod: Pod): Result {
    for (const plugin of this.preEnqueuePlugins) {
      const result = plugin.preEnqueue!(pod);
      if (result) return withPlugin(result, plugin.name);
    }
    return undefined;
  }

  /** PreFilter: a rejection or error ends the cycle; results intersect the candidate nodes. */
  runPreFilter(state: CycleState, pod: Pod, snapshot: Snapshot): { result?: PreFilterResult; status?: Status } {
    let nodeNames: Set<string> | undefined;
    for (const plugin of this.preFilterPlugins) {
      const answer = plugin.preFilter!(state, pod, snapshot);
      let result: PreFilterResult | undefined;
      let outcome: Result;
      if (answer && 'code' in answer) outcome = answer as Status;
      else if (answer) ({ result, status: outcome } = answer as { result?: PreFilterResult; status?: Result });
      if (outcome?.code === 'Skip') {
        state.skipFilter.add(plugin.name);
        continue;
      }
      if (outcome) return { status: withPlugin(outcome, plugin.name) };
      if (result?.nodeNames) {
        nodeNames = nodeNames ? new Set([...nodeNames].filter((n) => result!.nodeNames!.has(n))) : new Set(result.nodeNames);
        if (nodeNames.size === 0) return { status: withPlugin(status.unresolvable(`node(s) didn't satisfy plugin(s) [${plugin.name}] simultaneously`), plugin.name) };
      }
    }
    state.activeFilters = undefined;
    return { result: nodeNames ? { nodeNames } : undefined };
  }

  runFilters(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Result {
    const filters = state.activeFilters ?? this.activeFilters(state);
    for (let i = 0; i < filters.length; i++) {
      const result = filters[i].filter!(state, pod, nodeInfo);
      if (result) return withPlugin(result, filters[i].name);
    }
    return undefined;
  }

  /** The Filter plugins this cycle runs (PreFilter's Skips left out), kept on the state. */
  private activeFilters(state: CycleState): readonly Plugin[] {
    const filters = state.skipFilter.size === 0 ? this.filterPlugins : this.filterPlugins.filter((plugin) => !state.skipFilter.has(plugin.name));
    state.activeFilters = filters;
    return filters;
  }

  runPreFilterExtensionAddPod(state: CycleState, pod: Pod, added: PodInfo, nodeInfo: NodeInfo): void {
    for (const plugin of this.preFilterPlugins) if (!state.skipFilter.has(plugin.name)) plugin.addPod?.(state, pod, added, nodeInfo);
  }

  runPreFilterExtensionRemovePod(state: CycleState, pod: Pod, removed: PodInfo, nodeInfo: NodeInfo): void {
    for (const plugin of this.preFilterPlugins) if (!state.skipFilter.has(plugin.name)) plugin.removePod?.(state, pod, removed, nodeInfo);
  }

  get hasPostFilter(): boolean {
    return this.postFilterPlugins.length > 0;
  }

  async runPostFilter(state: CycleState, pod: Pod, filtered: ReadonlyMap<string, Status>): Promise<{ result?: PostFilterResult; status: Result }> {
    let last: { result?: PostFilterResult; status: Result } = { status: status.unschedulable() };
    for (const plugin of this.postFilterPlugins) {
      const answer = await plugin.postFilter!(state, pod, filtered);
      if (!answer.status) return answer;
      if (answer.status.code === 'Error') return answer;
      last = answer;
    }
    return last;
  }

  /** Weighted sum of normalized scores per node (in `nodes` order). */
  runScores(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    for (const plugin of this.preScorePlugins) {
      const result = plugin.preScore!(state, pod, nodes);
      if (result?.code === 'Skip') state.skipScore.add(plugin.name);
    }
    const scores = new Array<number>(nodes.length);
    for (const { plugin, weight } of this.scorePlugins) {
      if (state.skipScore.has(plugin.name)) continue;
      for (let i = 0; i < nodes.length; i++) scores[i] = plugin.score!(state, pod, nodes[i]);
      plugin.normalizeScore?.(state, pod, scores);
      for (let i = 0; i < nodes.length; i++) totals[i] += scores[i] * weight;
    }
    return totals;
  }

  get hasScorePlugins(): boolean {
    return this.scorePlugins.length > 0;
  }

  runReserve(state: CycleState, pod: Pod, nodeName: string): Result {
    for (const plugin of this.reservePlugins) {
      const result = plugin.reserve?.(state, pod, nodeName);
      if (result) return withPlugin(result, plugin.name);
    }
    return undefined;
  }

  runUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (const plugin of [...this.reservePlugins].reverse()) plugin.unreserve?.(state, pod, nodeName);
  }

  async runPreBind(state: CycleState, pod: Pod, nodeName: string): Promise<Result> {
    for (const plugin of this.preBindPlugins) {
      const result = await plugin.preBind!(state, pod, nodeName);
      if (result) return withPlugin(result, plugin.name);
    }
    return undefined;
  }

  async runBind(state: CycleState, pod: Pod, nodeName: string): Promise<Result> {
    for (const plugin of this.bindPlugins) {
      const result = await plugin.bind!(state, pod, nodeName);
      if (result === 'Skip') continue;
      return result && withPlugin(result, plugin.name);
    }
    return status.error('no bind plugin bound the pod');
  }
}

function withPlugin(result: Status, plugin: string): Status {
  if (!result.plugin) result.plugin = plugin;
  return result;
}
