import sys, glob, os
sys.path.insert(0, os.path.dirname(__file__))
import lib
for m in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "v_*.py"))):
    __import__(os.path.basename(m)[:-3])
lib.write_all()
print(len(lib.ALL), "vectors")
