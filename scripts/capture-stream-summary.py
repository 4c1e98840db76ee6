#!/usr/bin/env python3
"""Prints a summary of a raw capture stream (docs/capture.md): counts per record kind, threads, each
DeviceCreate description, Budget samples, bytes allocated. A quick look at what the layer wrote, on machines
without Node (the product decoder is allocator/capture/). Usage: python3 scripts/capture-stream-summary.py FILE
"""
import collections
import struct
import sys
NAMES = {1:'ProcessStart',2:'ProcessEnd',3:'Flush',4:'Dropped',5:'InstanceCreate',6:'InstanceDestroy',7:'DeviceCreate',
         8:'DeviceDestroy',9:'Budget',10:'AllocateMemory',11:'FreeMemory',12:'MapMemory',13:'UnmapMemory',14:'CreateBuffer',
         15:'DestroyBuffer',16:'CreateImage',17:'DestroyImage',18:'BufferRequirements',19:'ImageRequirements',20:'BindBuffer',
         21:'BindImage',22:'Present',23:'ObjectName',24:'Stack',25:'Symbol'}
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'VRSCAP\x00\x01', 'bad magic'
start = struct.unpack_from('<Q', d, 24)[0]
def strings(o, n):
    out = []
    for _ in range(n):
        ln = struct.unpack_from('<I', d, o)[0]
        out.append(d[o + 4:o + 4 + ln].decode('utf8', 'replace'))
        o = (o + 4 + ln + 3) // 4 * 4
    return out
o = 32; counts = collections.Counter(); tids = set(); allocated = 0; last = None
while o + 24 <= len(d):
    k, f, b, t, s, tm = struct.unpack_from('<HHIIIQ', d, o)
    if b < 24 or o + b > len(d):
        print('trailing partial record'); break
    counts[NAMES.get(k, k)] += 1; tids.add(t); last = NAMES.get(k, k)
    if k == 7:
        api, drv, ven, dev, typ, drvid, feat, hc, tc, mac = struct.unpack_from('<10I', d, o + 52)
        gran, atom, maxsize, mapalign = struct.unpack_from('<4Q', d, o + 96)
        heaps = struct.unpack_from('<16Q', d, o + 128); hflags = struct.unpack_from('<16I', d, o + 256)
        tflags = struct.unpack_from('<32I', d, o + 320); theap = struct.unpack_from('<32I', d, o + 448)
        name, drvname, drvinfo, exts = strings(o + 576, 4)
        print(f'device: {name} | driver {drvname} {drvinfo} (id {drvid}) | vendor 0x{ven:x} device 0x{dev:x} type {typ} '
              f'| api {api >> 22}.{(api >> 12) & 0x3ff}.{api & 0xfff} | features 0x{feat:x} | extensions: {exts}')
        print(f'  limits: bufferImageGranularity {gran} nonCoherentAtomSize {atom} maxMemoryAllocationSize {maxsize} '
              f'maxMemoryAllocationCount {mac} minMemoryMapAlignment {mapalign}')
        for i in range(hc): print(f'  heap {i}: {heaps[i] / 2**30:.1f} GiB flags 0x{hflags[i]:x}')
        print('  types: ' + ' '.join(f'{i}:0x{tflags[i]:x}@h{theap[i]}' for i in range(tc)))
    if k == 9:
        hc, trig = struct.unpack_from('<2I', d, o + 32)
        bud = struct.unpack_from('<16Q', d, o + 40); use = struct.unpack_from('<16Q', d, o + 168)
        print(f'budget t=+{(tm - start) / 1e6:.1f} ms trigger {trig}: ' +
              ' '.join(f'h{i} {use[i] / 2**20:.1f}/{bud[i] / 2**20:.0f} MiB' for i in range(hc)))
    if k == 10:
        allocated += struct.unpack_from('<Q', d, o + 40)[0]
    o += b
print('records:', dict(counts))
print(f'threads: {len(tids)}; allocated total {allocated / 2**20:.1f} MiB; last record: {last}')
