"""mapwidget"""
