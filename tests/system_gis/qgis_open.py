"""Load a run's project.qgz and its GeoPackage layers in headless QGIS (Debian's python3-qgis).

Run by tests/test_gis_tools.py with /usr/bin/python3 and QT_QPA_PLATFORM=offscreen. Prints one
JSON object: the QGIS version, whether the project opened, and per layer of the project whether
it is valid, its feature count, its renderer against the one the project file declares, the
attribute a categorized renderer reads (and whether the layer has it), and the renderer QGIS
applies when the layer is opened from layers.gpkg alone (its default style, ``layer_styles``).
"""

import json
import os
import sys
import xml.etree.ElementTree as ET
import zipfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import Qgis, QgsApplication, QgsProject, QgsVectorLayer

project_path, gpkg_path = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(project_path) as z:
    qgs = ET.fromstring(z.read(next(n for n in z.namelist() if n.endswith(".qgs"))))
declared = {}
for node in qgs.iter("maplayer"):
    r = node.find("renderer-v2")
    declared[node.findtext("layername")] = None if r is None else r.get("type")

app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
opened = project.read(project_path)
layers = []
for layer in project.mapLayers().values():
    row = {"name": layer.name(), "valid": layer.isValid(), "declared": declared.get(layer.name())}
    if layer.isValid():
        fields = [f.name() for f in layer.fields()]
        renderer = layer.renderer()
        row["features"] = layer.featureCount()
        row["renderer"] = None if renderer is None else renderer.type()
        if renderer is not None and renderer.type() == "categorizedSymbol":
            row["attribute"] = renderer.classAttribute()
            row["attribute_found"] = renderer.classAttribute() in fields
            row["categories"] = len(renderer.categories())
        alone = QgsVectorLayer(f"{gpkg_path}|layername={layer.name()}", layer.name(), "ogr")
        row["default_style"] = alone.renderer().type() if alone.isValid() else None
        del alone
    layers.append(row)
print(
    json.dumps(
        {
            "qgis": Qgis.QGIS_VERSION,
            "opened": opened,
            "error": project.error(),
            "layers": layers,
            "declared": declared,
        }
    )
)
sys.stdout.flush()
project.clear()  # QGIS 3.22 may crash in exitQgis() while a project still holds layers
app.exitQgis()
