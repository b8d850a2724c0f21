print("mattegate")
