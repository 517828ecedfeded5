import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RangeAllocator, ServiceIpAllocator } from '../../src/registry/common/allocators.js';

describe('ServiceIpAllocator', () => {
  it('hands out every usable address of the range once, never the network or broadcast address', () => {
    const allocator = new ServiceIpAllocator('10.0.0.0/24');
    const given = new Set<string>();
    for (let i = 0; i < 254; i++) {
      const ip = allocator.allocate(`svc-${i}`);
      assert.ok(ip, `allocation ${i} failed`);
      given.add(ip);
    }
    assert.equal(given.size, 254);
    assert.ok(!given.has('10.0.0.0') && !given.has('10.0.0.255'));
    assert.equal(allocator.allocate('one-too-many'), undefined);
  });

  it('keeps the lowest 16 addresses of a /24 for clients while higher ones are free', () => {
    const allocator = new ServiceIpAllocator('10.0.0.0/24');
    for (let i = 0; i < 200; i++) {
      const last = Number(allocator.allocate(`svc-${i}`)!.split('.')[3]);
      assert.ok(last >= 16, `dynamic allocation took the static band: .${last}`);
    }
  });

  it('lets the owner claim again, refuses others, and frees only for the owner', () => {
    const allocator = new ServiceIpAllocator('10.96.0.0/12');
    assert.equal(allocator.claim('10.96.0.10', 'dns'), true);
    assert.equal(allocator.claim('10.96.0.10', 'dns'), true);
    assert.equal(allocator.claim('10.96.0.10', 'other'), false);
    allocator.release('10.96.0.10', 'other');
    assert.equal(allocator.ownerOf('10.96.0.10'), 'dns');
    allocator.release('10.96.0.10', 'dns');
    assert.equal(allocator.ownerOf('10.96.0.10'), undefined);
    assert.equal(allocator.contains('10.111.255.254'), true);
    assert.equal(allocator.contains('10.112.0.1'), false);
    assert.equal(allocator.claim('not-an-ip', 'x'), false);
  });
});

describe('RangeAllocator (node ports)', () => {
  it('allocates within the range until full', () => {
    const ports = new RangeAllocator(30000, 3);
    const taken = [ports.allocate('a'), ports.allocate('b'), ports.allocate('c')].sort();
    assert.deepEqual(taken, [30000, 30001, 30002]);
    assert.equal(ports.allocate('d'), undefined);
    assert.equal(ports.claim(29999, 'd'), false);
  });
});
