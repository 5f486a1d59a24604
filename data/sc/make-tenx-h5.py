#!/usr/bin/env python3
"""Writes the fixture (data/sc/fixture, 10x + cells.csv) as a Cell Ranger 3.0+ HDF5 feature-barcode matrix with
h5py (Debian python3-h5py), independently of gpulmm's reader and writer, following Cell Ranger's layout:

  /matrix/{barcodes (S), data (int32), indices (int64), indptr (int64), shape (int32: features, barcodes)}
  /matrix/features/{id, name, feature_type, genome, _all_tag_keys} (fixed-length byte strings), gzip level 4

  fixture-10x.h5   the 40 genes, plus two "Antibody Capture" features (ADT1 before the genes, ADT2 after them)
                   with counts in every cell, which a reader must leave out (the genes' results are those of
                   the 10x directory)

  /usr/bin/python3 data/sc/make-tenx-h5.py [fixtureDir=data/sc/fixture]
"""
import os
import sys

import h5py
import numpy as np

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixture")
with open(os.path.join(d, "matrix.mtx")) as f:
    lines = [l for l in f if not l.startswith("%")]
n_genes, n_cells, nnz = map(int, lines[0].split())
dense = np.zeros((n_genes, n_cells), dtype=np.int64)
for l in lines[1:]:
    g, c, v = l.split()
    dense[int(g) - 1, int(c) - 1] += int(v)
feats = [l.split("\t") for l in open(os.path.join(d, "features.tsv")).read().splitlines()]
barcodes = open(os.path.join(d, "barcodes.tsv")).read().split()

# Feature order: ADT1, the genes, ADT2; antibody counts 1 + (cell mod 7) and 3 + (cell mod 5).
adt1 = 1 + (np.arange(n_cells) % 7)
adt2 = 3 + (np.arange(n_cells) % 5)
full = np.vstack([adt1[None, :], dense, adt2[None, :]])
ids = ["ADT1"] + [f[0] for f in feats] + ["ADT2"]
names = ["CD3_TotalSeqB"] + [f[1] for f in feats] + ["CD19_TotalSeqB"]
types = ["Antibody Capture"] + ["Gene Expression"] * n_genes + ["Antibody Capture"]

indptr, indices, data = [0], [], []
for c in range(n_cells):
    nz = np.nonzero(full[:, c])[0]
    indices.extend(nz)
    data.extend(full[nz, c])
    indptr.append(len(indices))

path = os.path.join(d, "..", "fixture-10x.h5")
with h5py.File(path, "w") as f:
    f.attrs["filetype"] = "matrix"
    f.attrs["version"] = 2
    m = f.create_group("matrix")
    m.create_dataset("barcodes", data=np.array(barcodes, dtype="S"), compression="gzip", compression_opts=4)
    m.create_dataset("data", data=np.array(data, dtype=np.int32), compression="gzip", compression_opts=4, chunks=(4096,))
    m.create_dataset("indices", data=np.array(indices, dtype=np.int64), compression="gzip", compression_opts=4, chunks=(4096,))
    m.create_dataset("indptr", data=np.array(indptr, dtype=np.int64), compression="gzip", compression_opts=4)
    m.create_dataset("shape", data=np.array([len(ids), n_cells], dtype=np.int32))
    ft = m.create_group("features")
    ft.create_dataset("id", data=np.array(ids, dtype="S"))
    ft.create_dataset("name", data=np.array(names, dtype="S"))
    ft.create_dataset("feature_type", data=np.array(types, dtype="S"))
    ft.create_dataset("genome", data=np.array(["sim"] * len(ids), dtype="S"))
    ft.create_dataset("_all_tag_keys", data=np.array(["genome"], dtype="S"))
print("wrote", os.path.normpath(path))
