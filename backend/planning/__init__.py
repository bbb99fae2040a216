"""Planning: inspector–institution relations (回避), 双随机一公开 draws and bulk routine plans."""
