/** The QEMU tier's package list is the same in install.sh and in the tier's own check (pure: reads both files). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QEMU_PACKAGES, TierSetupError, missingPackages } from './tier';

describe('QEMU tier packages', () => {
  it('install.sh installs exactly the packages the tier checks for', () => {
    const install = readFileSync(join(import.meta.dirname, '..', 'install.sh'), 'utf8');
    const list = /^qemu_packages=\(([^)]*)\)$/m.exec(install)?.[1]?.trim().split(/\s+/);
    expect(list).toEqual(QEMU_PACKAGES);
  });

  it('missingPackages names only packages of the list', () => {
    for (const p of missingPackages()) expect(QEMU_PACKAGES).toContain(p);
  });

  it('a setup failure says so, apart from product failures', () => {
    expect(new TierSetupError('libvirtd did not start').message).toBe('qemu tier setup failed: libvirtd did not start');
  });
});
