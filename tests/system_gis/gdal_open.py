"""Open GeoPackages with the system GDAL (Debian's python3-gdal) and list every message.

Run by tests/test_gis_tools.py with /usr/bin/python3 (not the project's Python): reads every
feature of every layer with an error handler that records each GDAL warning or error, then runs
GDAL's own GeoPackage validator (``osgeo_utils.samples.validate_gpkg``, warnings as errors).
Prints one JSON object: the GDAL version, per file its layers and feature counts, and the
messages (an empty list: GDAL opened the files without a word).
"""

import json
import sys

from osgeo import gdal

gdal.UseExceptions()
messages = []
LEVEL = {gdal.CE_Warning: "Warning", gdal.CE_Failure: "Failure", gdal.CE_Fatal: "Fatal"}


def handler(level, number, text):
    if level >= gdal.CE_Warning:
        messages.append(f"{LEVEL.get(level, level)} {number}: {text}")


gdal.PushErrorHandler(handler)
files = {}
for path in sys.argv[1:]:
    ds = gdal.OpenEx(path, gdal.OF_VECTOR | gdal.OF_READONLY)
    layers = {}
    for i in range(ds.GetLayerCount()):
        layer = ds.GetLayer(i)
        layer.GetSpatialRef()
        layer.GetExtent()
        n = 0
        for feature in layer:
            feature.GetGeometryRef()
            n += 1
        layers[layer.GetName()] = n
    ds = None
    try:
        from osgeo_utils.samples import validate_gpkg

        validate_gpkg.check(
            path, abort_at_first_error=False, extra_checks=True, warning_as_error=True
        )
    except ImportError:
        messages.append("osgeo_utils.samples.validate_gpkg is missing")
    except Exception as exc:  # the validator raises on the first error (warnings included)
        messages.append(f"validate_gpkg {path}: {exc}")
    files[path] = layers
print(json.dumps({"gdal": gdal.__version__, "files": files, "messages": messages}))
