/** The scan's view of the genotype readers' contract (defined with the readers in src/io/genotype-source.ts). */
export type { GenotypeBlock, GenotypeSource, SnpInfo, SnpRange } from '../src/io/genotype-source.js';
