/**
 * A set of field paths stored as a trie, as structured-merge-diff's fieldpath.Set: at each node,
 * `members` are the child elements that are themselves in the set, `children` the elements with
 * set members below them. An element can be both (a list item someone owns, and its fields).
 *
 * Sets are built with insert() and afterwards treated as values: the operations return new sets.
 */

import { isPlainObject, type JsonMap } from '../object.js';
import { setMember } from '../patch/json-values.js';
import { MemoTable } from './memo-table.js';
import { comparePathElements, parsePathElement, PathElementError, type PathElement } from './path-element.js';

export class FieldsV1Error extends Error {}

/** See FieldSet.membersJson. */
const TEXT_ASSEMBLY_DEPTH = 3;

export class FieldSet {
  private readonly members = new Set<PathElement>();
  private readonly children = new Map<PathElement, FieldSet>();
  /** The members of this node's FieldsV1 object as JSON text, once encoded (see toFieldsV1Json). */
  private encodedMembers: string | undefined;
  /** decodesToItself(), once asked. */
  private storedForm: boolean | undefined;

  static of(...paths: (readonly PathElement[])[]): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  insert(path: readonly PathElement[]): void {
    if (path.length === 0) return;
    let node: FieldSet = this;
    // A set under construction forgets what was derived from it, along the changed path.
    node.forgetEncoding();
    for (let i = 0; i < path.length - 1; i++) {
      node = node.childOrCreate(path[i] as PathElement);
      node.forgetEncoding();
    }
    node.members.add(path[path.length - 1] as PathElement);
  }

  /** insert([element]): for builders that walk down the trie themselves (compare.ts). */
  insertMember(element: PathElement): void {
    this.forgetEncoding();
    this.members.add(element);
  }

  /**
   * Makes `child` (a finished set, shared from now on) the node below `element`, which has none
   * yet: for builders that found the very set they would have built (compare.ts).
   */
  adoptChild(element: PathElement, child: FieldSet): void {
    if (this.children.has(element) || child.isEmpty()) throw new Error(`adoptChild: ${element} has a node already, or the set is empty`);
    this.forgetEncoding();
    this.children.set(element, child);
  }

  /** The node below `element`, made if missing: insert([element, ...rest]) goes on from there. */
  childForInsert(element: PathElement): FieldSet {
    this.forgetEncoding();
    return this.childOrCreate(element);
  }

  has(path: readonly PathElement[]): boolean {
    if (path.length === 0) return false;
    let node: FieldSet | undefined = this;
    for (const element of path.slice(0, -1)) node = node?.children.get(element);
    return node?.members.has(path[path.length - 1] as PathElement) ?? false;
  }

  /**
   * Whether decoding this set's FieldsV1 text (fromFieldsV1) gives exactly this set back: every
   * element is in the form parsePathElement gives it, and no node is empty (a value's nodes never
   * are). Kept per node, like the text.
   */
  decodesToItself(): boolean {
    if (this.storedForm !== undefined) return this.storedForm;
    let result = true;
    for (const member of this.members) if (!isStoredElementForm(member)) result = false;
    for (const [element, child] of this.children) {
      if (!result) break;
      if (child.isEmpty() || !isStoredElementForm(element) || !child.decodesToItself()) result = false;
    }
    this.storedForm = result;
    return result;
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

  /** How many paths: paths().length, without listing them. */
  pathCount(): number {
    let count = this.members.size;
    for (const child of this.children.values()) count += child.pathCount();
    return count;
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

  /**
   * JSON.stringify(this.toFieldsV1()), byte for byte, without building the object. Each node
   * keeps its text: sets are values once built, and a write re-encodes every manager's set,
   * most of them unchanged (decoded from the stored text, or shared subtrees of it).
   */
  toFieldsV1Json(): string {
    return `{${this.membersJson(0)}}`;
  }

  /**
   * The top levels (the entry's metadata, spec, status, and what lies right below them) are
   * assembled from their children's text, kept per node, so a new set sharing most of its nodes
   * with one encoded before (ownership moved, server fields stripped) writes only what is new.
   * Deeper, a node nothing below which was encoded before is written by V8's serializer from
   * its object form, which is faster than assembling text in small pieces.
   */
  private membersJson(depth: number): string {
    if (this.encodedMembers !== undefined) return this.encodedMembers;
    let text: string;
    if (depth >= TEXT_ASSEMBLY_DEPTH && ![...this.children.values()].some((child) => child.encodedMembers !== undefined)) {
      text = JSON.stringify(this.encode(false)).slice(1, -1);
    } else {
      const elements = [...this.members];
      for (const element of this.children.keys()) if (!this.members.has(element)) elements.push(element);
      const parts: string[] = [];
      for (const element of sorted(elements)) {
        const child = this.children.get(element);
        parts.push(`${JSON.stringify(element)}:${child === undefined ? '{}' : child.memberJsonWithSelf(this.members.has(element), depth + 1)}`);
      }
      text = parts.join(',');
    }
    this.encodedMembers = text;
    return text;
  }

  /** A child's FieldsV1 object: `"."` first when the element above it is itself a member. */
  private memberJsonWithSelf(selfIsMember: boolean, depth: number): string {
    const members = this.membersJson(depth);
    if (!selfIsMember) return `{${members}}`;
    return members === '' ? '{".":{}}' : `{".":{},${members}}`;
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

  /** A set under construction forgets what was derived from it. */
  private forgetEncoding(): void {
    this.encodedMembers = undefined;
    this.storedForm = undefined;
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

const checkedElements = new MemoTable<PathElement, boolean>(8192);

/** parsePathElement(element) === element: a decoder reading it back names it the same. */
function isStoredElementForm(element: PathElement): boolean {
  if (element.startsWith('f:')) return true;
  // Indexes past 2^53 sort as equals (Number): their order would depend on how a set was built.
  if (element.startsWith('i:') && element.length > 17) return false;
  let same = checkedElements.get(element);
  if (same === undefined) {
    try {
      same = parsePathElement(element) === element;
    } catch (error) {
      if (!(error instanceof PathElementError)) throw error;
      same = false;
    }
    checkedElements.set(element, same);
  }
  return same;
}

function sorted(elements: Iterable<PathElement>): PathElement[] {
  const list = [...elements];
  // Field names only (most nodes): there comparePathElements is the default order, code units.
  return list.every((element) => element.startsWith('f:')) ? list.sort() : list.sort(comparePathElements);
}
