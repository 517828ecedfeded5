/**
 * A set of field paths stored as a trie, as structured-merge-diff's fieldpath.Set: at each node,
 * `members` are the child elements that are themselves in the set, `children` the elements with
 * set members below them. An element can be both (a list item someone owns, and its fields).
 *
 * Sets are built with insert() and afterwards treated as values: the operations return new sets.
 */

import { isPlainObject, type JsonMap } from '../object.js';
import { setMember } from '../patch/json-values.js';
import { comparePathElements, parsePathElement, PathElementError, type PathElement } from './path-element.js';

export class FieldsV1Error extends Error {}

export class FieldSet {
  private readonly members = new Set<PathElement>();
  private readonly children = new Map<PathElement, FieldSet>();

  static of(...paths: (readonly PathElement[])[]): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  insert(path: readonly PathElement[]): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    for (const element of path.slice(0, -1)) node = node.childOrCreate(element);
    node.members.add(path[path.length - 1] as PathElement);
  }

  has(path: readonly PathElement[]): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (const element of path.slice(0, -1)) node = node?.children.get(element);
    return node?.members.has(path[path.length - 1] as PathElement) ?? false;
  }

  hasMember(element: PathElement): boolean {
    return this.members.has(element);
  }

  /** The paths below `element`, relative to it (upstream's WithPrefix). */
  child(element: PathElement): FieldSet | undefined {
    return this.children.get(element);
  }

  memberElements(): PathElement[] {
    return [...this.members];
  }

  childElements(): PathElement[] {
    return [...this.children.keys()];
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  union(other: FieldSet): FieldSet {
    // Sets are values once built, so an operation may answer one of its operands.
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const result = new FieldSet();
    for (const m of this.members) result.members.add(m);
    for (const m of other.members) result.members.add(m);
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      result.children.set(element, theirs ? child.union(theirs) : child);
    }
    for (const [element, child] of other.children) {
      if (!this.children.has(element)) result.children.set(element, child);
    }
    return result;
  }

  intersection(other: FieldSet): FieldSet {
    if (this.isEmpty()) return this;
    if (other.isEmpty()) return other;
    const result = new FieldSet();
    for (const m of this.members) if (other.members.has(m)) result.members.add(m);
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      if (theirs) result.addChild(element, child.intersection(theirs));
    }
    return result;
  }

  /** Removes exactly the paths in `other`; what lies below a removed path stays. */
  difference(other: FieldSet): FieldSet {
    if (other.isEmpty() || this.isEmpty()) return this;
    const result = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) result.members.add(m);
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      result.addChild(element, theirs ? child.difference(theirs) : child);
    }
    return result;
  }

  /** Removes the paths in `other` together with everything below them. */
  recursiveDifference(other: FieldSet): FieldSet {
    if (other.isEmpty() || this.isEmpty()) return this;
    const result = new FieldSet();
    for (const m of this.members) if (!other.members.has(m)) result.members.add(m);
    for (const [element, child] of this.children) {
      if (other.members.has(element)) continue;
      const theirs = other.children.get(element);
      result.addChild(element, theirs ? child.recursiveDifference(theirs) : child);
    }
    return result;
  }

  /** Every path, in upstream's iteration order: a node's members, then its children, sorted. */
  paths(): PathElement[][] {
    const out: PathElement[][] = [];
    for (const m of sorted(this.members)) out.push([m]);
    for (const element of sorted(this.children.keys())) {
      for (const path of (this.children.get(element) as FieldSet).paths()) out.push([element, ...path]);
    }
    return out;
  }

  /** The FieldsV1 JSON trie, keys in upstream's order so the bytes match what kubectl shows. */
  toFieldsV1(): JsonMap {
    return this.encode(false);
  }

  static fromFieldsV1(json: unknown): FieldSet {
    if (!isPlainObject(json)) throw new FieldsV1Error('fieldsV1 must be a JSON object');
    try {
      return FieldSet.decode(json).set;
    } catch (error) {
      if (error instanceof PathElementError) throw new FieldsV1Error(error.message);
      throw error;
    }
  }

  private encode(selfIsMember: boolean): JsonMap {
    const out: JsonMap = {};
    if (selfIsMember) out['.'] = {};
    const elements = sorted(new Set([...this.members, ...this.children.keys()]));
    for (const element of elements) {
      const child = this.children.get(element);
      setMember(out, element, child ? child.encode(this.members.has(element)) : {});
    }
    return out;
  }

  private static decode(json: JsonMap): { set: FieldSet; selfIsMember: boolean } {
    const set = new FieldSet();
    let selfIsMember = false;
    for (const [text, value] of Object.entries(json)) {
      if (!isPlainObject(value)) throw new FieldsV1Error(`fieldsV1 entry ${JSON.stringify(text)} must be a JSON object`);
      if (text === '.') {
        selfIsMember = true;
        continue;
      }
      const element = parsePathElement(text);
      const inner = FieldSet.decode(value);
      if (inner.selfIsMember || inner.set.isEmpty()) set.members.add(element);
      set.addChild(element, inner.set);
    }
    return { set, selfIsMember };
  }

  private childOrCreate(element: PathElement): FieldSet {
    let child = this.children.get(element);
    if (!child) {
      child = new FieldSet();
      this.children.set(element, child);
    }
    return child;
  }

  private addChild(element: PathElement, child: FieldSet): void {
    if (!child.isEmpty()) this.children.set(element, child);
  }
}

function sorted(elements: Iterable<PathElement>): PathElement[] {
  return [...elements].sort(comparePathElements);
}
