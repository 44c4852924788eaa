"""packaging: versions, specifiers, markers and this interpreter's tags (sysconfig's build data)."""
import packaging.markers
import packaging.specifiers
import packaging.tags
import packaging.version

print(sorted(packaging.version.Version(v) for v in ["1.10", "1.2", "1.2rc1"]))
print(packaging.specifiers.SpecifierSet(">=3.8,<4").contains("3.11"))
print(packaging.markers.Marker("python_version >= '3.8'").evaluate())
print([str(t) for t in packaging.tags.sys_tags()][:3])
