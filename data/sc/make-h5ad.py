#!/usr/bin/env python3
"""Writes the fixture (data/sc/fixture, 10x + cells.csv) as AnnData .h5ad files with h5py (Debian python3-h5py),
independently of gpulmm's reader, following the AnnData on-disk spec (encoding-type / encoding-version attrs):

  fixture-csr.h5ad    X: csr_matrix (cells x genes, float32), obs columns categorical (codes + categories)
                      except score (float64); var index = gene names
  fixture-dense.h5ad  X: dense float64 array (gzip); obs columns as plain string arrays
  fixture-csc.h5ad    X: csc_matrix (int32 data); every X dataset gzip-compressed

  /usr/bin/python3 data/sc/make-h5ad.py [fixtureDir=data/sc/fixture]
"""
import csv
import os
import sys

import h5py
import numpy as np

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixture")
with open(os.path.join(d, "matrix.mtx")) as f:
    lines = [l for l in f if not l.startswith("%")]
n_genes, n_cells, nnz = map(int, lines[0].split())
dense = np.zeros((n_cells, n_genes))
for l in lines[1:]:
    g, c, v = l.split()
    dense[int(c) - 1, int(g) - 1] += float(v)
genes = [l.split("\t")[1] for l in open(os.path.join(d, "features.tsv")).read().splitlines()]
with open(os.path.join(d, "cells.csv")) as f:
    rows = list(csv.DictReader(f))
barcodes = [r["barcode"] for r in rows]
str_dt = h5py.string_dtype("utf-8")


def enc(obj, kind, version="0.2.0"):
    obj.attrs["encoding-type"] = kind
    obj.attrs["encoding-version"] = version


def strings(group, name, values):
    ds = group.create_dataset(name, data=np.array(values, dtype=object), dtype=str_dt)
    enc(ds, "string-array")


def frame(f, name, index, cols, categorical):
    g = f.create_group(name)
    enc(g, "dataframe")
    g.attrs["_index"] = "_index"
    g.attrs.create("column-order", np.array(list(cols.keys()), dtype=object), dtype=str_dt)
    strings(g, "_index", index)
    for k, v in cols.items():
        if isinstance(v[0], float):
            g.create_dataset(k, data=np.array(v, dtype=np.float64))
            enc(g[k], "array")
        elif categorical:
            cats = sorted(set(v))
            c = g.create_group(k)
            enc(c, "categorical")
            c.attrs["ordered"] = False
            c.create_dataset("codes", data=np.array([cats.index(x) for x in v], dtype=np.int8))
            strings(c, "categories", cats)
        else:
            strings(g, k, v)


def sparse(f, x, kind, dtype, compression):
    g = f.create_group("X")
    enc(g, kind + "_matrix")
    g.attrs["shape"] = np.array(x.shape, dtype=np.int64)
    m = x if kind == "csr" else x.T
    indptr, indices, data = [0], [], []
    for row in m:
        nz = np.nonzero(row)[0]
        indices.extend(nz)
        data.extend(row[nz])
        indptr.append(len(indices))
    g.create_dataset("data", data=np.array(data, dtype=dtype), compression=compression)
    g.create_dataset("indices", data=np.array(indices, dtype=np.int32), compression=compression)
    g.create_dataset("indptr", data=np.array(indptr, dtype=np.int64))


obs = {k: [float(r[k]) if k == "score" else r[k] for r in rows] for k in ["donor", "group", "treat", "batch", "score"]}
for name, layout in [("csr", "csr"), ("dense", "dense"), ("csc", "csc")]:
    path = os.path.join(d, "..", f"fixture-{name}.h5ad")
    with h5py.File(path, "w") as f:
        enc(f, "anndata", "0.1.0")
        if layout == "dense":
            f.create_dataset("X", data=dense, compression="gzip")
            enc(f["X"], "array")
        else:
            sparse(f, dense, layout, np.float32 if layout == "csr" else np.int32, "gzip")
        frame(f, "obs", barcodes, obs, categorical=(layout != "dense"))
        frame(f, "var", genes, {}, categorical=False)
    print("wrote", os.path.normpath(path))
